"""Cooldown per target: another episode on a target within its cooldown creates no run, says why."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest
from prefect.client.orchestration import PrefectClient
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterTags
from prefect.client.schemas.objects import FlowRun, State
from prefect.states import Cancelled, Completed, Failed, Running, Scheduled

from engine.dispatch.cooldown import counts_for_cooldown, find_hold
from engine.dispatch.dispatcher import PrefectDispatcher
from engine.handoff import RunRequest
from flows.run_identity import cooldown_tag, run_tags
from tests.engine.alert_requests import STARTS_AT, resolved, run_request

NOW = datetime(2025, 11, 25, 10, 0, tzinfo=UTC)


def past_run(state: State, *, age: float, key: str = "other", ran: bool = True) -> FlowRun:
    return FlowRun(
        id=uuid.uuid4(),
        flow_id=uuid.uuid4(),
        state=state,
        idempotency_key=key,
        expected_start_time=NOW - timedelta(seconds=age),
        run_count=1 if ran else 0,
    )


@pytest.mark.parametrize(
    ("state", "ran", "counts"),
    [
        (Scheduled(), False, True),
        (Running(), True, True),
        (Completed(), True, True),
        (Failed(), True, True),
        (Cancelled(), True, True),  # cancelled while acting: it may have changed the target
        (Cancelled(), False, False),  # cancelled while waiting (its alert resolved): never acted
    ],
)
def test_every_run_of_the_key_counts_but_one_cancelled_before_it_ran(
    state: State, ran: bool, counts: bool
) -> None:
    assert counts_for_cooldown(past_run(state, age=10, ran=ran)) is counts


def test_the_most_recent_counting_run_holds_a_new_episode_back() -> None:
    older, newer = past_run(Completed(), age=300), past_run(Completed(), age=42)
    skipped = past_run(Cancelled(), age=5, ran=False)

    hold = find_hold([older, skipped, newer], idempotency_key="new", now=NOW, seconds=600)

    assert hold is not None
    assert (hold.run_id, hold.age_seconds) == (newer.id, 42)
    assert hold.message("service-down:shop/web", 600) == (
        f"cooldown: service-down:shop/web ran 42 s ago (flow run {newer.id}, Completed), "
        "cooldown 600 s"
    )


@pytest.mark.parametrize(
    ("runs", "why"),
    [
        ([], "no recent run"),
        ([past_run(Completed(), age=601)], "the last run is older than the cooldown"),
        ([past_run(Cancelled(), age=5, ran=False)], "the last run never ran"),
        ([past_run(Completed(), age=5), past_run(Scheduled(), age=3, key="new")], "redelivery"),
    ],
)
def test_no_hold_when_nothing_recent_counts_or_the_episode_has_its_own_run(
    runs: list[FlowRun], why: str
) -> None:
    assert find_hold(runs, idempotency_key="new", now=NOW, seconds=600) is None, why


def test_a_run_with_a_cooldown_is_tagged_with_its_key() -> None:
    request = run_request(cooldown_key="kube-proxy-down:cluster", cooldown_seconds=900)

    assert run_tags(request)[-1] == "cooldown:kube-proxy-down:cluster"


@pytest.fixture
async def dispatcher(deployment_ids: dict[str, UUID]) -> AsyncIterator[PrefectDispatcher]:
    """A dispatcher without an executor: its runs stay Scheduled."""
    dispatcher = PrefectDispatcher(deployment_ids)
    yield dispatcher
    await dispatcher.aclose()


def new_key() -> str:
    return f"kube-proxy-down:node-{uuid.uuid4().hex[:8]}"


def episode(
    fingerprint: str, key: str, *, minutes_later: int = 0, seconds: float = 600
) -> RunRequest:
    """An episode of one alert on the target of cooldown ``key``."""
    return run_request(
        fingerprint=fingerprint,
        starts_at=STARTS_AT + timedelta(minutes=minutes_later),
        cooldown_key=key,
        cooldown_seconds=seconds,
    )


async def runs_of(client: PrefectClient, key: str) -> set[UUID]:
    tagged = FlowRunFilter(tags=FlowRunFilterTags(all_=[cooldown_tag(key)]))
    return {run.id for run in await client.read_flow_runs(flow_run_filter=tagged)}


async def test_a_second_episode_within_the_cooldown_creates_no_run_and_says_why(
    dispatcher: PrefectDispatcher, prefect_client: PrefectClient
) -> None:
    key = new_key()
    first = await dispatcher.submit(episode("a1", key))

    second = await dispatcher.submit(episode("a1", key, minutes_later=5))

    assert first.created
    assert first.suppressed is None
    assert (second.flow_run_id, second.created) == (first.flow_run_id, False)
    assert second.suppressed is not None
    assert second.suppressed.startswith(f"cooldown: {key} ran 0 s ago ")
    assert f"(flow run {first.flow_run_id}, Scheduled), cooldown 600 s" in second.suppressed
    assert await runs_of(prefect_client, key) == {first.flow_run_id}


async def test_another_alert_on_the_same_target_is_held_back_too(
    dispatcher: PrefectDispatcher, prefect_client: PrefectClient
) -> None:
    key = new_key()
    first = await dispatcher.submit(episode("b1", key))

    other_alert = await dispatcher.submit(episode("b2", key))

    assert other_alert.suppressed is not None
    assert other_alert.flow_run_id == first.flow_run_id
    assert await runs_of(prefect_client, key) == {first.flow_run_id}


async def test_after_the_cooldown_a_new_episode_creates_a_run(
    dispatcher: PrefectDispatcher, prefect_client: PrefectClient
) -> None:
    key = new_key()
    first = await dispatcher.submit(episode("c1", key, seconds=1.5))
    await asyncio.sleep(2.0)

    later = await dispatcher.submit(episode("c1", key, minutes_later=5, seconds=1.5))

    assert later.created
    assert later.suppressed is None
    assert await runs_of(prefect_client, key) == {first.flow_run_id, later.flow_run_id}


async def test_a_duplicate_delivery_within_the_cooldown_returns_its_own_run(
    dispatcher: PrefectDispatcher, prefect_client: PrefectClient
) -> None:
    key = new_key()
    request = episode("d1", key)
    first = await dispatcher.submit(request)

    again = await dispatcher.submit(request)

    assert again == type(again)(flow_run_id=first.flow_run_id, created=False, suppressed=None)
    assert await runs_of(prefect_client, key) == {first.flow_run_id}


async def test_a_late_redelivery_finds_its_own_run_though_a_newer_episode_holds_the_target(
    dispatcher: PrefectDispatcher, prefect_client: PrefectClient
) -> None:
    key = new_key()
    old = episode("e1", key, seconds=1.0)
    old_run = await dispatcher.submit(old)
    await asyncio.sleep(1.5)
    new_run = await dispatcher.submit(episode("e1", key, minutes_later=30, seconds=1.0))

    repeated = await dispatcher.submit(old)  # Alertmanager's repeat_interval

    assert new_run.created
    assert (repeated.flow_run_id, repeated.created, repeated.suppressed) == (
        old_run.flow_run_id,
        False,
        None,
    )
    assert await runs_of(prefect_client, key) == {old_run.flow_run_id, new_run.flow_run_id}


async def test_a_run_cancelled_because_its_alert_resolved_does_not_hold_the_target(
    dispatcher: PrefectDispatcher, prefect_client: PrefectClient
) -> None:
    key = new_key()
    flapped = episode("f1", key)
    first = await dispatcher.submit(flapped)
    assert await dispatcher.resolve(resolved(flapped)) == [first.flow_run_id]

    again = await dispatcher.submit(episode("f1", key, minutes_later=2))

    assert again.created
    assert again.suppressed is None
    assert await runs_of(prefect_client, key) == {first.flow_run_id, again.flow_run_id}


async def test_episodes_of_one_target_arriving_together_create_one_run(
    dispatcher: PrefectDispatcher, prefect_client: PrefectClient
) -> None:
    key = new_key()
    requests = [episode(f"g{i}", key) for i in range(6)]

    handles = await asyncio.gather(*(dispatcher.submit(request) for request in requests))

    assert sum(handle.created for handle in handles) == 1
    assert len({handle.flow_run_id for handle in handles}) == 1
    assert sum(handle.suppressed is not None for handle in handles) == 5
    assert len(await runs_of(prefect_client, key)) == 1
