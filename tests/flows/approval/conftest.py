"""The flows the approval tests run, registered on the session's Prefect server."""

from __future__ import annotations

import asyncio
from uuid import UUID

import pytest

from engine.deployments import DeploymentSpec, register_deployments
from tests.flows.approval.asking_flow import asking_flow

ASKING_SPEC = DeploymentSpec(flow=asking_flow, name="approval-test-asking")


@pytest.fixture(scope="session")
def asking_deployment(prefect_api_url: str) -> UUID:
    """The asking test flow registered as a deployment."""
    ids = asyncio.run(register_deployments([ASKING_SPEC]))
    return ids[ASKING_SPEC.full_name]
