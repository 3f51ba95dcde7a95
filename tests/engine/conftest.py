"""Fixtures for the Prefect side of the engine: a real local Prefect server and our deployments."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from uuid import UUID

import pytest
from prefect.client.orchestration import PrefectClient, get_client
from prefect.context import refresh_global_settings_context

from engine.deployments import DeploymentSpec, register_deployments
from engine.prefect_server import PrefectServer
from engine.run_records import flush_run_records
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
def prefect_api_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real ``prefect server start`` (SQLite) for the session; this process's Prefect uses it."""
    state_dir: Path = tmp_path_factory.mktemp("prefect-server")
    with pytest.MonkeyPatch.context() as patch, PrefectServer(state_dir) as server:
        patch.setenv("PREFECT_API_URL", server.api_url)
        patch.setenv("PREFECT_HOME", str(state_dir / "client"))
        refresh_global_settings_context()
        yield server.api_url
        flush_run_records()
    refresh_global_settings_context()


@pytest.fixture(scope="session")
def deployment_ids(prefect_api_url: str) -> dict[str, UUID]:
    """The sample flows registered as deployments on the session's server."""
    return asyncio.run(register_deployments(SAMPLE_SPECS))


@pytest.fixture
async def prefect_client(prefect_api_url: str) -> AsyncIterator[PrefectClient]:
    """A Prefect client on the session's server, in the test's event loop."""
    async with get_client() as client:
        yield client
