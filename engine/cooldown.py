"""Cooldown per target: whether a recent run of the same cooldown key holds a new alert back.

A runbook's ``cooldown`` says how long after a run on a target (``<runbook>:<target>``) another
alert episode for that target starts nothing. Every run with a cooldown key carries the tag
``cooldown:<key>``; the dispatcher asks Prefect for that tag's runs due within the window
(``expected_start_time``, which for an alert's run is when it was created) and decides here.

Which runs count: every run of the key in the window, whatever its state (Scheduled, Running,
Paused at an approval gate, Completed, Failed, Crashed), because each may have acted or is about
to. The one exception is a run Cancelled before it ever ran (``run_count`` 0: it never entered
Running; Prefect sets ``start_time`` on any final state, so that cannot tell): typically its
alert resolved while it waited, so it never touched the target. A run cancelled after it
started counts: it may have acted before it stopped.

A redelivery of the same episode is never held back: it finds its own run (same idempotency
key), as before, even when another episode's run falls in the window.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from prefect.client.orchestration import PrefectClient
from prefect.client.schemas.filters import (
    FlowRunFilter,
    FlowRunFilterExpectedStartTime,
    FlowRunFilterIdempotencyKey,
    FlowRunFilterTags,
)
from prefect.client.schemas.objects import FlowRun
from prefect.client.schemas.sorting import FlowRunSort

COOLDOWN_TAG_PREFIX = "cooldown:"
#: Most runs of one key read per check, newest first. Within a window a key has one counting run
#: (the next is held back) plus any cancelled unstarted ones, so this only matters for alerts
#: flapping more than this often within one cooldown.
RECENT_RUNS_LIMIT = 20


def cooldown_tag(key: str) -> str:
    """The tag shared by the runs of one cooldown key."""
    return f"{COOLDOWN_TAG_PREFIX}{key}"


def recent_runs_filter(key: str, *, since: datetime) -> FlowRunFilter:
    """The runs of ``key`` due at or after ``since`` (sort newest first when reading)."""
    return FlowRunFilter(
        tags=FlowRunFilterTags(all_=[cooldown_tag(key)]),
        expected_start_time=FlowRunFilterExpectedStartTime(after_=since),
    )


def own_run_filter(key: str, idempotency_key: str) -> FlowRunFilter:
    """The run already created for this very episode, if any (however old)."""
    return FlowRunFilter(
        tags=FlowRunFilterTags(all_=[cooldown_tag(key)]),
        idempotency_key=FlowRunFilterIdempotencyKey(any_=[idempotency_key]),
    )


def counts_for_cooldown(run: FlowRun) -> bool:
    """Whether a run holds its key's cooldown: all do but those cancelled before they ran."""
    state = run.state
    return not (state is not None and state.is_cancelled() and run.run_count == 0)


@dataclass(frozen=True)
class CooldownHold:
    """A recent run that holds a new episode back.

    Attributes:
        run: The most recent run of the key that counts.
        age_seconds: How long ago it was due (0 for one due in the future).
    """

    run: FlowRun
    age_seconds: float

    def message(self, key: str, seconds: float) -> str:
        """Why no run was created, for the receiver's response and logs."""
        state = self.run.state.name if self.run.state is not None else "no state"
        return (
            f"cooldown: {key} ran {self.age_seconds:.0f} s ago "
            f"(flow run {self.run.id}, {state}), cooldown {seconds:g} s"
        )


def find_hold(
    runs: Iterable[FlowRun], *, idempotency_key: str, now: datetime, seconds: float
) -> CooldownHold | None:
    """The run that holds a new episode back, or None when a run may be created.

    Args:
        runs: Recent runs of the cooldown key (any order).
        idempotency_key: The new request's key; its own run among them means a redelivery.
        now: The time the window ends at.
        seconds: The cooldown.
    """
    holds: list[CooldownHold] = []
    for run in runs:
        if run.idempotency_key == idempotency_key:
            return None
        due = run.expected_start_time or run.created
        age = 0.0 if due is None else (now - due).total_seconds()
        if age <= seconds and counts_for_cooldown(run):
            holds.append(CooldownHold(run=run, age_seconds=max(age, 0.0)))
    return min(holds, key=lambda hold: hold.age_seconds, default=None)


async def read_cooldown_hold(
    client: PrefectClient, key: str, *, seconds: float, idempotency_key: str
) -> CooldownHold | None:
    """Ask Prefect for the key's recent runs and decide (one call; two when held back).

    Args:
        client: The Prefect API.
        key: The cooldown key.
        seconds: The cooldown.
        idempotency_key: The new request's key.
    """
    now = datetime.now(UTC)
    recent = await client.read_flow_runs(
        flow_run_filter=recent_runs_filter(key, since=now - timedelta(seconds=seconds)),
        sort=FlowRunSort.EXPECTED_START_TIME_DESC,
        limit=RECENT_RUNS_LIMIT,
    )
    hold = find_hold(recent, idempotency_key=idempotency_key, now=now, seconds=seconds)
    if hold is None:
        return None
    # In place of the create call it saves: a redelivery of an episode whose run is older than
    # the window (Alertmanager's repeat_interval) must still find its own run.
    own = await client.read_flow_runs(flow_run_filter=own_run_filter(key, idempotency_key), limit=1)
    return None if own else hold
