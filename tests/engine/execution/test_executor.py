"""The warm executor against a real Prefect server: in-process runs, the poller, claiming, stop."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest
from prefect.client.orchestration import PrefectClient
from prefect.client.schemas.filters import (
    FlowRunFilter,
    FlowRunFilterDeploymentId,
    FlowRunFilterState,
    FlowRunFilterStateType,
)
from prefect.client.schemas.objects import FlowRun, State, StateType
from prefect.states import Completed, Pending, Scheduled

from engine.deployments import flows_by_deployment
from engine.dispatch.dispatcher import PrefectDispatcher
from engine.execution.claims import is_due
from engine.execution.executor import SHUTDOWN_MESSAGE, WarmExecutor
from tests.engine.alert_requests import STARTS_AT, run_request
from tests.engine.conftest import SAMPLE_SPECS
from tests.engine.prefect_waits import wait_for_execution, wait_until_final
from tests.engine.sample_flows import GATES, executions_of
from tests.prefect_runs import create_run_by_hand

NOW = datetime(2025, 11, 25, 10, 0, tzinfo=UTC)

RECORD = "engine-test-record/engine-test-record"
RECORD_ASYNC = "engine-test-record-async/engine-test-record-async"
GATED = "engine-test-gated/engine-test-gated"


def new_executor(
    deployment_ids: dict[str, UUID],
    *,
    max_runs: int = 4,
    poll_interval: float = 2.0,
    shutdown_grace: float = 30.0,
) -> WarmExecutor:
    return WarmExecutor(
        flows_by_deployment(SAMPLE_SPECS, deployment_ids),
        max_runs=max_runs,
        poll_interval=poll_interval,
        shutdown_grace=shutdown_grace,
    )


@pytest.fixture(autouse=True)
async def no_runs_left_waiting(
    deployment_ids: dict[str, UUID], prefect_client: PrefectClient
) -> None:
    """Runs earlier suites left waiting on the shared server would take this test's slots."""
    waiting = await prefect_client.read_flow_runs(
        flow_run_filter=FlowRunFilter(
            deployment_id=FlowRunFilterDeploymentId(any_=list(deployment_ids.values())),
            state=FlowRunFilterState(
                type=FlowRunFilterStateType(
                    any_=[StateType.SCHEDULED, StateType.PENDING, StateType.PAUSED]
                )
            ),
        ),
    )
    for flow_run in waiting:
        await prefect_client.delete_flow_run(flow_run.id)


@pytest.fixture
async def executor(deployment_ids: dict[str, UUID]) -> AsyncIterator[WarmExecutor]:
    """A started executor that does not poll (runs reach it through the dispatcher)."""
    executor = new_executor(deployment_ids)
    await executor.start(poll=False)
    yield executor
    await executor.stop()


@pytest.mark.parametrize("deployment", [RECORD, RECORD_ASYNC])
async def test_a_submitted_run_completes_in_this_process_under_its_deployment(
    deployment: str,
    executor: WarmExecutor,
    deployment_ids: dict[str, UUID],
    prefect_client: PrefectClient,
) -> None:
    dispatcher = PrefectDispatcher(deployment_ids, launcher=executor)
    request = run_request(deployment)

    handle = await dispatcher.submit(request)
    run = await wait_until_final(prefect_client, handle.flow_run_id)
    await dispatcher.aclose()

    assert run.state_type == StateType.COMPLETED
    assert run.deployment_id == deployment_ids[deployment]
    [execution] = executions_of(request.parameters["marker"])
    assert execution.flow_run_id == str(handle.flow_run_id)
    assert execution.thread_name.startswith("flow-run-")


async def test_a_run_started_by_hand_is_picked_up_by_the_poller(
    deployment_ids: dict[str, UUID], prefect_client: PrefectClient
) -> None:
    marker = uuid.uuid4().hex
    executor = new_executor(deployment_ids, poll_interval=0.5)
    await executor.start()
    try:
        by_hand = await create_run_by_hand(
            prefect_client, deployment_ids[RECORD], parameters={"marker": marker}
        )
        run = await wait_until_final(prefect_client, by_hand.id)
    finally:
        await executor.stop()

    assert run.state_type == StateType.COMPLETED
    assert [execution.flow_run_id for execution in executions_of(marker)] == [str(by_hand.id)]


async def test_two_executors_competing_for_the_same_runs_execute_each_once(
    deployment_ids: dict[str, UUID], prefect_client: PrefectClient
) -> None:
    markers = [uuid.uuid4().hex for _ in range(4)]
    replicas = [new_executor(deployment_ids), new_executor(deployment_ids)]
    for replica in replicas:
        await replica.start(poll=False)
    try:
        runs = [
            await create_run_by_hand(
                prefect_client, deployment_ids[RECORD], parameters={"marker": marker}
            )
            for marker in markers
        ]
        await asyncio.gather(*(replica.poll_once() for replica in replicas))
        finals = [await wait_until_final(prefect_client, run.id) for run in runs]
    finally:
        for replica in replicas:
            await replica.stop()

    assert [final.state_type for final in finals] == [StateType.COMPLETED] * len(markers)
    assert [len(executions_of(marker)) for marker in markers] == [1] * len(markers)


async def test_stop_marks_a_run_still_in_progress_crashed(
    deployment_ids: dict[str, UUID], prefect_client: PrefectClient
) -> None:
    executor = new_executor(deployment_ids, shutdown_grace=0.5)
    await executor.start(poll=False)
    dispatcher = PrefectDispatcher(deployment_ids, launcher=executor)
    request = run_request(GATED)
    marker = request.parameters["marker"]
    gate = GATES.setdefault(marker, threading.Event())
    try:
        handle = await dispatcher.submit(request)
        await wait_for_execution(marker)

        await executor.stop()

        run = await prefect_client.read_flow_run(handle.flow_run_id)
        assert run.state is not None
        assert run.state.is_crashed()
        assert run.state.message == SHUTDOWN_MESSAGE
        assert executor.active_runs == frozenset()
    finally:
        gate.set()
        await dispatcher.aclose()


async def test_runs_beyond_the_bound_wait_scheduled_until_a_slot_frees(
    deployment_ids: dict[str, UUID], prefect_client: PrefectClient
) -> None:
    executor = new_executor(deployment_ids, max_runs=1, poll_interval=0.3)
    await executor.start()
    dispatcher = PrefectDispatcher(deployment_ids, launcher=executor)
    blocking, waiting = run_request(GATED), run_request(RECORD)
    gate = GATES.setdefault(blocking.parameters["marker"], threading.Event())
    try:
        first = await dispatcher.submit(blocking)
        await wait_for_execution(blocking.parameters["marker"])
        second = await dispatcher.submit(waiting)
        await asyncio.sleep(1.0)
        assert (await prefect_client.read_flow_run(second.flow_run_id)).state_type == (
            StateType.SCHEDULED
        )

        gate.set()
        finals = [await wait_until_final(prefect_client, h.flow_run_id) for h in (first, second)]
    finally:
        gate.set()
        await executor.stop()
        await dispatcher.aclose()

    assert [final.state_type for final in finals] == [StateType.COMPLETED] * 2


async def test_a_run_queued_here_but_finished_by_another_replica_is_not_run_again(
    deployment_ids: dict[str, UUID], prefect_client: PrefectClient
) -> None:
    busy = new_executor(deployment_ids, max_runs=1)
    other = new_executor(deployment_ids)
    for replica in (busy, other):
        await replica.start(poll=False)
    dispatcher = PrefectDispatcher(deployment_ids, launcher=busy)
    blocking, queued = run_request(GATED), run_request(RECORD)
    gate = GATES.setdefault(blocking.parameters["marker"], threading.Event())
    try:
        await dispatcher.submit(blocking)
        await wait_for_execution(blocking.parameters["marker"])
        handle = await dispatcher.submit(queued)
        assert handle.flow_run_id in busy.active_runs

        await other.poll_once()
        finished = await wait_until_final(prefect_client, handle.flow_run_id)
        gate.set()
        await asyncio.sleep(1.5)
    finally:
        gate.set()
        for replica in (busy, other):
            await replica.stop()
        await dispatcher.aclose()

    assert finished.state_type == StateType.COMPLETED
    assert len(executions_of(queued.parameters["marker"])) == 1
    rerun = await prefect_client.read_flow_run(handle.flow_run_id)
    assert rerun.state_type == StateType.COMPLETED
    assert rerun.run_count == 1


def flow_run_in(state: State | None) -> FlowRun:
    return FlowRun(id=uuid.uuid4(), flow_id=uuid.uuid4(), state=state)


@pytest.mark.parametrize(
    ("state", "due"),
    [
        (Scheduled(scheduled_time=NOW - timedelta(seconds=1)), True),
        (Scheduled(scheduled_time=NOW), True),
        (Scheduled(scheduled_time=NOW + timedelta(minutes=5)), False),
        (Scheduled(scheduled_time=STARTS_AT, name="Late"), True),
        (Pending(), False),
        (Completed(), False),
        (None, False),
    ],
)
def test_only_scheduled_runs_whose_time_has_come_are_due(state: State | None, due: bool) -> None:
    assert is_due(flow_run_in(state), NOW) is due
