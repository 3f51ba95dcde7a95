"""Shared fixtures: a simulated cluster served over real HTTP, its kubeconfigs, a Prefect server."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from simcluster.server import SimServer

if TYPE_CHECKING:
    from prefect.client.orchestration import PrefectClient


@pytest.fixture
def sim() -> Iterator[SimServer]:
    """A fresh simulated cluster (the default healthy scenario) served on 127.0.0.1."""
    with SimServer() as server:
        yield server


@pytest.fixture
def admin_kubeconfig(sim: SimServer, tmp_path: Path) -> Path:
    """A kubeconfig for the cluster's administrator (everything allowed)."""
    return sim.write_kubeconfig(tmp_path / "admin.kubeconfig", user="admin")


@pytest.fixture
def engine_kubeconfig(sim: SimServer, tmp_path: Path) -> Path:
    """A kubeconfig for the engine's ServiceAccount (RBAC from deploy/rbac enforced)."""
    return sim.write_kubeconfig(tmp_path / "engine.kubeconfig", user="engine")


@pytest.fixture(scope="session")
def prefect_api_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real ``prefect server start`` (SQLite) for the session; this process's Prefect uses it."""
    # Imported here: the tests that need no Prefect server need not load Prefect either.
    from prefect.context import refresh_global_settings_context

    from engine.execution.run_threads import flush_run_records
    from engine.prefect_server import PrefectServer
    from tests.prefect_runs import prefect_start_timeout

    state_dir: Path = tmp_path_factory.mktemp("prefect-server")
    server = PrefectServer(state_dir, startup_timeout=prefect_start_timeout())
    with pytest.MonkeyPatch.context() as patch, server:
        patch.setenv("PREFECT_API_URL", server.api_url)
        patch.setenv("PREFECT_HOME", str(state_dir / "client"))
        refresh_global_settings_context()
        yield server.api_url
        flush_run_records()
    refresh_global_settings_context()


@pytest.fixture
async def prefect_client(prefect_api_url: str) -> AsyncIterator[PrefectClient]:
    """A Prefect client on the session's server, in the test's event loop."""
    from prefect.client.orchestration import get_client

    async with get_client() as client:
        yield client
