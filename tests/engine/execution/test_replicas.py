"""Several engines on one Prefect: a run ended elsewhere is never run again, and a run whose
engine went away mid-run is taken over once by a live one."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from uuid import UUID

import pytest
from prefect.client.orchestration import PrefectClient
from prefect.client.schemas.objects import FlowRun, StateType
from prefect.states import Crashed, Failed, Pending, Running

from engine.deployments import flows_by_deployment
from engine.execution.executor import ENGINE_NAME, SHUTDOWN_MESSAGE, WarmExecutor
from engine.execution.heartbeats import crash_message
from engine.execution.takeover import RESCHEDULED, TAKEOVER_KEY, claim_message
from tests.engine.conftest import SAMPLE_SPECS
from tests.engine.prefect_waits import wait_until_final
from tests.engine.sample_flows import executions_of
from tests.prefect_runs import create_run_by_hand

RECORD = "engine-test-record/engine-test-record"
ANOTHER_ENGINE = "engine-7d9f-b2x4c/1"


@pytest.fixture
async def executor(deployment_ids: dict[str, UUID]) -> AsyncIterator[WarmExecutor]:
    """A started engine's executor that polls only when the test says so."""
    executor = WarmExecutor(flows_by_deployment(SAMPLE_SPECS, deployment_ids))
    await executor.start(poll=False)
    yield executor
    await executor.stop()


async def new_run(client: PrefectClient, deployment_ids: dict[str, UUID]) -> tuple[FlowRun, str]:
    marker = uuid.uuid4().hex
    run = await create_run_by_hand(client, deployment_ids[RECORD], parameters={"marker": marker})
    return run, marker


async def abandon(client: PrefectClient, run: FlowRun, *, by: str, message: str) -> None:
    """Claim and start ``run`` as engine ``by`` would, then mark it Crashed with ``message``."""
    await client.set_flow_run_state(run.id, Pending(message=claim_message(by)), force=True)
    await client.set_flow_run_state(run.id, Running(), force=True)
    await client.set_flow_run_state(run.id, Crashed(message=message), force=True)


async def state_names(client: PrefectClient, run_id: UUID) -> list[str]:
    return [state.name or state.type.value for state in await client.read_flow_run_states(run_id)]


async def test_each_claim_names_the_engine_that_made_it(
    executor: WarmExecutor, prefect_client: PrefectClient, deployment_ids: dict[str, UUID]
) -> None:
    run, _ = await new_run(prefect_client, deployment_ids)

    executor.launch(run)
    await wait_until_final(prefect_client, run.id)

    [claim] = [
        state
        for state in await prefect_client.read_flow_run_states(run.id)
        if state.type is StateType.PENDING
    ]
    assert claim.message == claim_message(ENGINE_NAME)


async def test_a_claim_made_on_a_stale_view_of_a_run_that_already_ended_does_not_run_it_again(
    executor: WarmExecutor, prefect_client: PrefectClient, deployment_ids: dict[str, UUID]
) -> None:
    seen_scheduled, marker = await new_run(prefect_client, deployment_ids)
    # Another replica claimed it, ran it and it failed, between our look and our claim.
    await prefect_client.set_flow_run_state(
        seen_scheduled.id, Failed(name="Unhealthy", message="ran elsewhere"), force=True
    )

    executor.launch(seen_scheduled)
    await wait_until_idle(executor)

    run = await prefect_client.read_flow_run(seen_scheduled.id)
    assert executions_of(marker) == []
    assert run.state is not None
    assert (run.state.type, run.state.name, run.state.message) == (
        StateType.FAILED,
        "Unhealthy",
        "ran elsewhere",
    )
    assert run.run_count == 0


async def test_a_run_abandoned_by_another_engine_is_taken_over_once_by_a_live_one(
    executor: WarmExecutor, prefect_client: PrefectClient, deployment_ids: dict[str, UUID]
) -> None:
    run, marker = await new_run(prefect_client, deployment_ids)
    await abandon(prefect_client, run, by=ANOTHER_ENGINE, message=crash_message(120))

    taken = await executor.poll_once()
    finished = await wait_until_final(prefect_client, run.id)

    assert run.id in taken
    assert finished.state_type is StateType.COMPLETED
    assert len(executions_of(marker)) == 1
    assert RESCHEDULED in await state_names(prefect_client, run.id)
    assert await prefect_client.read_flow_run_input(run.id, TAKEOVER_KEY) == ENGINE_NAME

    await abandon(prefect_client, run, by=ENGINE_NAME + "-restarted", message=SHUTDOWN_MESSAGE)
    assert run.id not in await executor.poll_once()
    again = await prefect_client.read_flow_run(run.id)
    assert again.state_type is StateType.CRASHED
    await prefect_client.delete_flow_run(run.id)


@pytest.mark.parametrize(
    ("claimed_by", "message"),
    [
        (ENGINE_NAME, crash_message(120)),  # alive to see it: its thread may still run
        (ANOTHER_ENGINE, "The runbook engine failed to run this flow."),  # a bug, not a death
        (ANOTHER_ENGINE, "Crashed by hand"),
    ],
    ids=["this-engine-alive", "another-engine-bug", "by-hand"],
)
async def test_a_crashed_run_is_left_to_a_human_unless_another_engine_went_away(
    claimed_by: str,
    message: str,
    executor: WarmExecutor,
    prefect_client: PrefectClient,
    deployment_ids: dict[str, UUID],
) -> None:
    run, marker = await new_run(prefect_client, deployment_ids)
    await abandon(prefect_client, run, by=claimed_by, message=message)

    assert run.id not in await executor.poll_once()

    still = await prefect_client.read_flow_run(run.id)
    assert still.state_type is StateType.CRASHED
    assert executions_of(marker) == []
    await prefect_client.delete_flow_run(run.id)


async def wait_until_idle(executor: WarmExecutor, within: float = 10.0) -> None:
    """Wait (bounded) until the executor has no run claiming or running."""
    async with asyncio.timeout(within):
        while True:
            if not executor.active_runs:
                return
            await asyncio.sleep(0.05)
