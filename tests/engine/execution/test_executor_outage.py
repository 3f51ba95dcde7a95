"""Prefect going away under a running flow: once it is back the run is scheduled again and
finishes, rather than ending Crashed with nobody to take it over."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from prefect.client.orchestration import PrefectClient
from prefect.client.schemas.objects import StateType
from prefect.settings import PREFECT_API_URL, PREFECT_CLIENT_MAX_RETRIES, temporary_settings

from engine.deployments import flows_by_deployment, register_deployments
from engine.execution.executor import WarmExecutor
from engine.execution.takeover import RESCHEDULED, prefect_unreachable
from engine.prefect_server import PrefectServer
from tests.engine.conftest import SAMPLE_SPECS
from tests.engine.sample_flows import GATES, executions_of
from tests.prefect_runs import create_run_by_hand

GATED = "engine-test-gated/engine-test-gated"


async def _until(condition: Callable[[], object], *, within: float, what: str) -> None:
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not {what} within {within:g}s")
        await asyncio.sleep(0.2)


@pytest.mark.timeout(240)
async def test_a_run_whose_prefect_went_away_mid_run_runs_again_once_prefect_is_back(
    tmp_path: Path,
) -> None:
    server = PrefectServer(tmp_path / "outage-server")
    server.start()
    # Prefect's client would otherwise ride out a short outage itself: this one is longer.
    with temporary_settings(
        updates={PREFECT_API_URL: server.api_url, PREFECT_CLIENT_MAX_RETRIES: 0}
    ):
        try:
            deployment_ids = await register_deployments(SAMPLE_SPECS)
            executor = WarmExecutor(
                flows_by_deployment(SAMPLE_SPECS, deployment_ids), poll_interval=0.5
            )
            await executor.start()
            marker = uuid.uuid4().hex
            gate = GATES.setdefault(marker, threading.Event())
            async with PrefectClient(server.api_url) as client:
                run = await create_run_by_hand(
                    client, deployment_ids[GATED], parameters={"marker": marker}
                )
            executor.launch(run)
            await _until(lambda: executions_of(marker), within=60, what="running")

            server.stop()
            gate.set()  # the flow ends while Prefect is away: its final state cannot be set
            await asyncio.sleep(3)
            server.start()
            async with PrefectClient(server.api_url) as client:
                deadline = time.monotonic() + 90
                while (await client.read_flow_run(run.id)).state_type is not StateType.COMPLETED:
                    assert time.monotonic() < deadline, "the run did not finish"
                    await asyncio.sleep(0.5)
                names = [s.name for s in await client.read_flow_run_states(run.id)]
            await executor.stop()
        finally:
            server.stop()

    assert RESCHEDULED in names, names
    assert "Crashed" not in names, names
    assert len(executions_of(marker)) == 2  # the gated flow's record step, before and after


@pytest.mark.parametrize(
    ("error", "unreachable"),
    [
        (httpx.ConnectError("refused"), True),
        (httpx.ReadTimeout("slow"), True),
        (RuntimeError("wrapped"), False),
        (ValueError("a bug in the flow"), False),
    ],
)
def test_only_errors_that_say_prefect_was_unreachable_count_as_an_outage(
    error: Exception, unreachable: bool
) -> None:
    assert prefect_unreachable(error) is unreachable


def test_an_outage_is_found_under_the_error_it_caused() -> None:
    error = RuntimeError("could not set the run's state")
    error.__cause__ = httpx.ConnectError("refused")

    assert prefect_unreachable(error)


@pytest.mark.parametrize(("status", "unreachable"), [(503, True), (429, True), (404, False)])
def test_prefect_answering_5xx_or_429_counts_as_unreachable(status: int, unreachable: bool) -> None:
    request = httpx.Request("POST", "http://127.0.0.1/api/flow_runs/x/set_state")
    error = httpx.HTTPStatusError(
        "status", request=request, response=httpx.Response(status, request=request)
    )

    assert prefect_unreachable(error) is unreachable
