"""Fixtures for the Prefect side of the engine: a real local Prefect server and our deployments."""

from __future__ import annotations

import asyncio
from uuid import UUID

import pytest

from engine.deployments import DeploymentSpec, register_deployments
from tests.engine.sample_flows import (
    gated_flow,
    record_async_flow,
    record_flow,
    suspending_flow,
)

SAMPLE_SPECS = (
    DeploymentSpec(
        flow=record_flow,
        name="engine-test-record",
        description="Records an execution (engine tests).",
        tags=("engine-test",),
        parameters={"note": "from the deployment"},
    ),
    DeploymentSpec(flow=record_async_flow, name="engine-test-record-async"),
    DeploymentSpec(flow=gated_flow, name="engine-test-gated"),
    DeploymentSpec(flow=suspending_flow, name="engine-test-suspending"),
)


@pytest.fixture(scope="session")
def deployment_ids(prefect_api_url: str) -> dict[str, UUID]:
    """The sample flows registered as deployments on the session's server."""
    return asyncio.run(register_deployments(SAMPLE_SPECS))
