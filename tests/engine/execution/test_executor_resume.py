"""A run answered right after it suspended is taken up at once, not at the executor's next poll."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from uuid import UUID

import pytest
from prefect.client.orchestration import PrefectClient
from prefect.client.schemas.objects import StateType

from engine.deployments import flows_by_deployment
from engine.execution.executor import WarmExecutor
from tests.engine.conftest import SAMPLE_SPECS
from tests.engine.prefect_waits import wait_until_final
from tests.prefect_runs import create_run_by_hand

SUSPENDING = "engine-test-suspending/engine-test-suspending"


async def suspended(client: PrefectClient, run_id: UUID, within: float = 30) -> None:
    """Wait until the run is Suspended."""
    deadline = time.monotonic() + within
    while True:
        if (await client.read_flow_run(run_id)).state_type == StateType.PAUSED:
            return
        assert time.monotonic() < deadline, f"run {run_id} not suspended after {within}s"
        await asyncio.sleep(0.01)


async def test_a_run_resumed_as_it_suspends_is_taken_up_without_waiting_for_a_poll(
    deployment_ids: dict[str, UUID],
    prefect_client: PrefectClient,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="engine.execution.executor")
    # A minute between polls: only the hand-over can pick the resumed run up in time.
    executor = WarmExecutor(flows_by_deployment(SAMPLE_SPECS, deployment_ids), poll_interval=60)
    await executor.start()
    try:
        run = await create_run_by_hand(
            prefect_client, deployment_ids[SUSPENDING], parameters={"marker": uuid.uuid4().hex}
        )
        executor.launch(run)
        await suspended(prefect_client, run.id)
        await prefect_client.resume_flow_run(run.id)
        resumed = time.monotonic()
        executor.launch(await prefect_client.read_flow_run(run.id))
        done = await wait_until_final(prefect_client, run.id, within=30)
        took = time.monotonic() - resumed
    finally:
        await executor.stop()

    assert done.state_type == StateType.COMPLETED, done.state
    assert took < 10, f"taken up after {took:.1f}s"
    said = [r.getMessage() for r in caplog.records if r.name == "engine.execution.executor"]
    assert (
        f"flow run {run.id} waits for an answer (Suspended): it runs on, here or on another "
        "replica, once answered" in said
    )
