"""One run per target: runs sharing a concurrency key never run at once; other targets go on."""

from __future__ import annotations

import asyncio
import logging
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from uuid import UUID

import pytest
from prefect.client.orchestration import PrefectClient
from prefect.client.schemas.objects import FlowRun, StateType

from engine.deployments import flows_by_deployment
from engine.dispatch.dispatcher import PrefectDispatcher
from engine.execution.executor import WarmExecutor
from engine.execution.keyed_locks import KeyedLocks
from flows.run_identity import target_key, target_tag
from tests.engine.alert_requests import run_request
from tests.engine.conftest import SAMPLE_SPECS
from tests.engine.prefect_waits import wait_for_execution, wait_until_final
from tests.engine.sample_flows import GATES, executions_of
from tests.prefect_runs import create_run_by_hand

RECORD = "engine-test-record/engine-test-record"
GATED = "engine-test-gated/engine-test-gated"


@pytest.mark.parametrize(
    ("tags", "key"),
    [
        (["alert:ServiceDown", "target:service/shop/web", "engine-test"], "service/shop/web"),
        (["target:kube-proxy", "target:other"], "kube-proxy"),
        (["alert:ServiceDown", "runbook:service-down"], None),
        (["target:"], None),
        ([], None),
    ],
)
def test_a_runs_target_is_named_by_its_first_target_tag(tags: list[str], key: str | None) -> None:
    assert target_key(tags) == key


async def test_keyed_locks_serialize_one_key_and_let_other_keys_through() -> None:
    locks, order = KeyedLocks(), []

    async def hold(key: str, name: str, seconds: float) -> None:
        async with locks.hold(key):
            order.append(f"{name} in")
            await asyncio.sleep(seconds)
            order.append(f"{name} out")

    await asyncio.gather(hold("a", "first", 0.2), hold("a", "second", 0), hold("b", "other", 0))

    assert order == ["first in", "other in", "other out", "first out", "second in", "second out"]
    assert len(locks) == 0  # nothing kept once nobody holds a key


@pytest.fixture
async def engine(deployment_ids: dict[str, UUID]) -> AsyncIterator[PrefectDispatcher]:
    """A polling executor (every 0.3 s) and a dispatcher that launches on it."""
    executor = WarmExecutor(
        flows_by_deployment(SAMPLE_SPECS, deployment_ids), max_runs=4, poll_interval=0.3
    )
    await executor.start()
    # Generous: SQLite under load answers concurrent writes after Prefect's client retries.
    dispatcher = PrefectDispatcher(deployment_ids, launcher=executor, timeout=30)
    yield dispatcher
    await executor.stop()
    await dispatcher.aclose()


@pytest.fixture
def gates() -> Iterator[list[threading.Event]]:
    """Gates opened at the end of the test whatever happens, so no flow thread lingers."""
    opened: list[threading.Event] = []
    yield opened
    for gate in opened:
        gate.set()


def gate_of(marker: str, gates: list[threading.Event]) -> threading.Event:
    gate = GATES.setdefault(marker, threading.Event())
    gates.append(gate)
    return gate


def new_target() -> str:
    return f"service/shop/{uuid.uuid4().hex[:8]}"


async def state_of(client: PrefectClient, flow_run_id: UUID) -> StateType | None:
    return (await client.read_flow_run(flow_run_id)).state_type


def started_at(flow_run: FlowRun) -> datetime:
    assert flow_run.start_time is not None
    return flow_run.start_time


def ran_apart(first: FlowRun, second: FlowRun) -> bool:
    """Whether ``second`` started (entered Running) only after ``first`` ended."""
    assert first.end_time is not None
    assert second.start_time is not None
    return second.start_time >= first.end_time


async def test_runs_on_one_target_run_one_after_the_other_while_another_target_runs_alongside(
    engine: PrefectDispatcher, prefect_client: PrefectClient, gates: list[threading.Event]
) -> None:
    target = new_target()
    first = run_request(GATED, concurrency_key=target)
    second = run_request(RECORD, concurrency_key=target)
    elsewhere = run_request(GATED, concurrency_key=new_target())
    first_gate = gate_of(first.parameters["marker"], gates)
    elsewhere_gate = gate_of(elsewhere.parameters["marker"], gates)

    first_run = await engine.submit(first)
    await wait_for_execution(first.parameters["marker"])
    second_run = await engine.submit(second)
    elsewhere_run = await engine.submit(elsewhere)
    await wait_for_execution(elsewhere.parameters["marker"])  # alongside the first: parallel
    await asyncio.sleep(1.0)  # three polls

    assert await state_of(prefect_client, first_run.flow_run_id) == StateType.RUNNING
    assert await state_of(prefect_client, second_run.flow_run_id) == StateType.SCHEDULED
    assert executions_of(second.parameters["marker"]) == []

    first_gate.set()
    first_final = await wait_until_final(prefect_client, first_run.flow_run_id)
    second_final = await wait_until_final(prefect_client, second_run.flow_run_id)
    elsewhere_gate.set()
    elsewhere_final = await wait_until_final(prefect_client, elsewhere_run.flow_run_id)

    assert [run.state_type for run in (first_final, second_final, elsewhere_final)] == [
        StateType.COMPLETED
    ] * 3
    assert ran_apart(first_final, second_final)
    assert len(executions_of(second.parameters["marker"])) == 1


async def test_two_alerts_for_one_target_arriving_together_run_one_at_a_time(
    engine: PrefectDispatcher, prefect_client: PrefectClient, gates: list[threading.Event]
) -> None:
    target = new_target()
    requests = [run_request(GATED, concurrency_key=target) for _ in range(2)]
    markers = [request.parameters["marker"] for request in requests]
    for marker in markers:
        gate_of(marker, gates)

    handles = await asyncio.gather(*(engine.submit(request) for request in requests))
    await asyncio.sleep(1.5)
    started = [marker for marker in markers if executions_of(marker)]
    assert len(started) == 1
    GATES[started[0]].set()
    later = next(marker for marker in markers if marker != started[0])
    await wait_for_execution(later)
    GATES[later].set()
    finals = [await wait_until_final(prefect_client, handle.flow_run_id) for handle in handles]

    assert [final.state_type for final in finals] == [StateType.COMPLETED] * 2
    earlier, after = sorted(finals, key=started_at)
    assert ran_apart(earlier, after)


async def test_a_target_busy_on_another_replica_holds_a_run_started_by_hand_with_its_tag(
    deployment_ids: dict[str, UUID],
    prefect_client: PrefectClient,
    gates: list[threading.Event],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="engine.execution.targets")
    flows = flows_by_deployment(SAMPLE_SPECS, deployment_ids)
    busy_replica = WarmExecutor(flows)
    polling_replica = WarmExecutor(flows, poll_interval=0.2)
    await busy_replica.start(poll=False)
    await polling_replica.start()
    dispatcher = PrefectDispatcher(deployment_ids, launcher=busy_replica, timeout=30)
    target = new_target()
    acting = run_request(GATED, concurrency_key=target)
    gate = gate_of(acting.parameters["marker"], gates)
    marker = uuid.uuid4().hex
    try:
        acting_run = await dispatcher.submit(acting)
        await wait_for_execution(acting.parameters["marker"])
        by_hand = await create_run_by_hand(
            prefect_client,
            deployment_ids[RECORD],
            parameters={"marker": marker},
            tags=[target_tag(target)],
        )
        await asyncio.sleep(1.5)  # several polls of the other replica
        assert await state_of(prefect_client, by_hand.id) == StateType.SCHEDULED

        gate.set()
        acting_final = await wait_until_final(prefect_client, acting_run.flow_run_id)
        by_hand_final = await wait_until_final(prefect_client, by_hand.id)
    finally:
        gate.set()
        for replica in (busy_replica, polling_replica):
            await replica.stop()
        await dispatcher.aclose()

    assert by_hand_final.state_type == StateType.COMPLETED
    assert ran_apart(acting_final, by_hand_final)
    waits = [
        record.getMessage()
        for record in caplog.records
        if record.name == "engine.execution.targets" and str(by_hand.id) in record.getMessage()
    ]
    assert waits == [
        f"flow run {by_hand.id} waits: target {target!r} is busy with flow run "
        f"{acting_run.flow_run_id} (Running); the poller retries it"
    ]
