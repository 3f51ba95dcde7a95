"""A run whose engine died is marked Crashed by Prefect; live and suspended runs are left alone."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from uuid import UUID

import pytest
from prefect.client.orchestration import PrefectClient, get_client
from prefect.client.schemas.objects import FlowRun, StateType
from prefect.events.actions import ChangeFlowRunState
from prefect.events.schemas.automations import EventTrigger, Posture
from prefect.events.schemas.events import ResourceSpecification

from engine.deployments import flows_by_deployment
from engine.execution.executor import WarmExecutor
from engine.execution.heartbeats import (
    AUTOMATION_NAME,
    ensure_automation,
    unresponsive_run_automation,
)
from engine.execution.targets import find_busy_run
from flows.run_identity import target_tag
from tests.engine.conftest import SAMPLE_SPECS
from tests.engine.prefect_waits import wait_until_final
from tests.engine.sample_flows import GATES
from tests.prefect_runs import create_run_by_hand

GATED = "engine-test-gated/engine-test-gated"
SUSPENDING = "engine-test-suspending/engine-test-suspending"
REPO = Path(__file__).parents[3]
#: Prefect's server evaluates proactive triggers every 5 s.
EVALUATION_LAG = 5

Install = Callable[[int], Awaitable[UUID]]


def test_the_automation_watches_only_the_engines_runs() -> None:
    ours = [uuid.uuid4(), uuid.uuid4()]
    automation = unresponsive_run_automation(ours, silent_seconds=120)

    trigger = automation.trigger
    assert isinstance(trigger, EventTrigger)
    assert trigger.match_related == ResourceSpecification(
        {
            "prefect.resource.role": "deployment",
            "prefect.resource.id": sorted(f"prefect.deployment.{d}" for d in ours),
        }
    )
    assert trigger.for_each == {"prefect.resource.id"}


def test_a_run_is_watched_from_claim_start_and_heartbeat_until_its_next_event() -> None:
    automation = unresponsive_run_automation([uuid.uuid4()], silent_seconds=120)

    trigger = automation.trigger
    assert isinstance(trigger, EventTrigger)
    assert trigger.after == {
        "prefect.flow-run.Pending",
        "prefect.flow-run.Running",
        "prefect.flow-run.heartbeat",
    }
    # Suspended at an approval gate counts as an event: a paused run is never crashed.
    assert trigger.expect == {"prefect.flow-run.*"}
    assert trigger.posture is Posture.Proactive
    assert trigger.within.total_seconds() == 120


def test_a_silent_run_is_marked_crashed_with_the_reason() -> None:
    automation = unresponsive_run_automation([uuid.uuid4()], silent_seconds=120)

    [action] = automation.actions
    assert isinstance(action, ChangeFlowRunState)
    assert action.state is StateType.CRASHED
    assert action.message is not None
    assert "No heartbeat or state change for 120s" in action.message


@pytest.fixture
async def install(
    prefect_client: PrefectClient, deployment_ids: dict[str, UUID]
) -> AsyncIterator[Install]:
    """Install the automation for the sample deployments; removed after the test."""

    async def install(silent_seconds: int) -> UUID:
        automation = unresponsive_run_automation(
            deployment_ids.values(), silent_seconds=silent_seconds
        )
        return await ensure_automation(prefect_client, automation)

    yield install
    for stored in await prefect_client.read_automations_by_name(AUTOMATION_NAME):
        await prefect_client.delete_automation(stored.id)


_DEFINITION_IN_A_FRESH_PROCESS = """
import json, uuid
from engine.execution.heartbeats import _definition, unresponsive_run_automation
automation = unresponsive_run_automation([uuid.UUID(int=7)], silent_seconds=120)
print(json.dumps(_definition(automation), sort_keys=True))
"""


def test_engines_with_other_hash_seeds_see_the_same_automation_as_unchanged() -> None:
    # A rewrite gives the trigger a new id and drops Prefect's watch of runs already silent.
    seen = {
        subprocess.run(
            [sys.executable, "-c", _DEFINITION_IN_A_FRESH_PROCESS],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in ("1", "2", "3", "4", "5", "6")
    }

    assert len(seen) == 1


async def test_installing_it_again_keeps_the_one_automation(
    install: Install, prefect_client: PrefectClient
) -> None:
    first = await install(120)
    second = await install(120)

    stored = await prefect_client.read_automations_by_name(AUTOMATION_NAME)
    assert first == second
    assert [automation.id for automation in stored] == [first]


async def test_a_changed_silence_updates_the_stored_automation_in_place(
    install: Install, prefect_client: PrefectClient
) -> None:
    first = await install(120)
    second = await install(300)

    [stored] = await prefect_client.read_automations_by_name(AUTOMATION_NAME)
    assert first == second == stored.id
    assert isinstance(stored.trigger, EventTrigger)
    assert stored.trigger.within.total_seconds() == 300


async def test_copies_stored_by_racing_replicas_are_reduced_to_one(
    install: Install, prefect_client: PrefectClient, deployment_ids: dict[str, UUID]
) -> None:
    automation = unresponsive_run_automation(deployment_ids.values(), silent_seconds=120)
    copies = [await prefect_client.create_automation(automation) for _ in range(3)]

    kept = await install(120)

    stored = await prefect_client.read_automations_by_name(AUTOMATION_NAME)
    assert [automation.id for automation in stored] == [kept] == [min(copies, key=str)]


async def test_replicas_installing_it_at_the_same_moment_leave_exactly_one(
    install: Install, prefect_client: PrefectClient, deployment_ids: dict[str, UUID]
) -> None:
    automation = unresponsive_run_automation(deployment_ids.values(), silent_seconds=120)
    for _ in range(3):
        for leftover in await prefect_client.read_automations_by_name(AUTOMATION_NAME):
            await prefect_client.delete_automation(leftover.id)
        async with get_client() as first, get_client() as second, get_client() as third:
            kept = await asyncio.gather(
                *(ensure_automation(replica, automation) for replica in (first, second, third))
            )

        stored = await prefect_client.read_automations_by_name(AUTOMATION_NAME)
        assert [copy.id for copy in stored] == [min(kept, key=str)]


async def wait_for_state(
    client: PrefectClient, run_id: UUID, state: StateType, *, within: float
) -> FlowRun:
    """Read the run until it is in ``state``; fail the test after ``within`` seconds."""
    deadline = time.monotonic() + within
    while True:
        run = await client.read_flow_run(run_id)
        if run.state is not None and run.state.type is state:
            return run
        if time.monotonic() > deadline:
            raise AssertionError(f"run {run_id} not {state.value} after {within}s: {run.state}")
        await asyncio.sleep(0.2)


@pytest.fixture
async def discard_after(prefect_client: PrefectClient) -> AsyncIterator[list[UUID]]:
    """Runs to delete after the test: crashed ones another test's executor would take over."""
    runs: list[UUID] = []
    yield runs
    for run_id in runs:
        await prefect_client.delete_flow_run(run_id)


async def test_a_killed_engines_running_run_is_crashed_and_frees_its_target_but_its_suspended_run_waits(  # noqa: E501 (a sentence)
    install: Install,
    prefect_client: PrefectClient,
    deployment_ids: dict[str, UUID],
    discard_after: list[UUID],
) -> None:
    silence = 15
    await install(silence)
    acting = await create_run_by_hand(
        prefect_client,
        deployment_ids[GATED],
        parameters={"marker": uuid.uuid4().hex, "wait_seconds": 600},
        tags=[target_tag("shop/web")],
    )
    waiting = await create_run_by_hand(
        prefect_client, deployment_ids[SUSPENDING], parameters={"marker": uuid.uuid4().hex}
    )
    discard_after += [acting.id, waiting.id]
    engine = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.engine.doomed_engine",
        str(acting.id),
        str(waiting.id),
        cwd=REPO,
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert engine.stdout is not None
        assert await asyncio.wait_for(engine.stdout.readline(), timeout=60) == b"executing\n"
        await wait_for_state(prefect_client, acting.id, StateType.RUNNING, within=30)
        suspended = await wait_for_state(prefect_client, waiting.id, StateType.PAUSED, within=30)
    finally:
        engine.kill()
        await engine.wait()

    crashed = await wait_for_state(
        prefect_client, acting.id, StateType.CRASHED, within=silence + 6 * EVALUATION_LAG
    )

    assert crashed.state is not None
    assert crashed.state.message is not None
    assert f"No heartbeat or state change for {silence}s" in crashed.state.message
    assert await find_busy_run(prefect_client, "shop/web", other_than=uuid.uuid4()) is None
    assert suspended.state is not None
    quiet_since = suspended.state.timestamp.timestamp()
    await asyncio.sleep(max(0.0, quiet_since + silence + 2 * EVALUATION_LAG - time.time()))
    still = await prefect_client.read_flow_run(waiting.id)
    assert still.state is not None
    assert still.state.name == "Suspended", still.state


async def test_a_live_run_keeps_heartbeating_past_the_silence_and_is_not_crashed(
    install: Install, prefect_client: PrefectClient, deployment_ids: dict[str, UUID]
) -> None:
    # Prefect's shortest heartbeat is 30 s, so this run outlives a 40 s silence by 15 s.
    await install(40)
    marker = uuid.uuid4().hex
    executor = WarmExecutor(flows_by_deployment(SAMPLE_SPECS, deployment_ids), heartbeat_seconds=30)
    await executor.start(poll=False)
    try:
        run = await create_run_by_hand(
            prefect_client,
            deployment_ids[GATED],
            parameters={"marker": marker, "wait_seconds": 55},
        )
        executor.launch(run)
        done = await wait_until_final(prefect_client, run.id, within=90)
    finally:
        GATES.pop(marker, None)
        await executor.stop()

    assert done.state is not None
    assert done.state.type is StateType.COMPLETED, done.state
