"""Cooldown per target: whether a recent run of the same cooldown key holds a new alert back.

A runbook's ``cooldown`` says how long after a run on a target (``<runbook>:<target>``) another
alert episode for that target starts nothing. Every run with a cooldown key carries the tag
``cooldown:<key>``; the dispatcher asks Prefect for that tag's runs due within the window
(``expected_start_time``, which for an alert's run is when it was created), for every key of a
batch of alerts in one read, and decides here.

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

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from prefect.client.orchestration import PrefectClient
from prefect.client.schemas.filters import (
    FlowRunFilter,
    FlowRunFilterExpectedStartTime,
    FlowRunFilterTags,
)
from prefect.client.schemas.objects import FlowRun
from prefect.client.schemas.sorting import FlowRunSort

from flows.run_identity import cooldown_keys, cooldown_tag

#: Most runs of one key read per check, newest first. Within a window a key has one counting run
#: (the next is held back) plus any cancelled unstarted ones, so this only matters for alerts
#: flapping more than this often within one cooldown.
RECENT_RUNS_LIMIT = 20
#: Keys asked in one read: their limits add up to Prefect's largest page (200).
KEYS_PER_READ = 10


def recent_runs_filter(keys: Collection[str], *, since: datetime) -> FlowRunFilter:
    """The runs of any of ``keys`` due at or after ``since`` (sort newest first when reading)."""
    return FlowRunFilter(
        tags=FlowRunFilterTags(any_=[cooldown_tag(key) for key in keys]),
        expected_start_time=FlowRunFilterExpectedStartTime(after_=since),
    )


def counts_for_cooldown(run: FlowRun) -> bool:
    """Whether a run holds its key's cooldown: all do but those cancelled before they ran."""
    state = run.state
    return not (state is not None and state.is_cancelled() and run.run_count == 0)


@dataclass(frozen=True)
class CooldownHold:
    """A recent run that holds a new episode back.

    Attributes:
        run_id: The most recent run of the key that counts.
        state_name: Its state, for the message.
        age_seconds: How long ago it was due (0 for one due in the future).
    """

    run_id: UUID
    state_name: str
    age_seconds: float

    def message(self, key: str, seconds: float) -> str:
        """Why no run was created, for the receiver's response and logs."""
        return (
            f"cooldown: {key} ran {self.age_seconds:.0f} s ago "
            f"(flow run {self.run_id}, {self.state_name}), cooldown {seconds:g} s"
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
            state = (run.state.name if run.state is not None else None) or "no state"
            holds.append(CooldownHold(run_id=run.id, state_name=state, age_seconds=max(age, 0.0)))
    return min(holds, key=lambda hold: hold.age_seconds, default=None)


async def read_recent_runs(
    client: PrefectClient, keys: Collection[str], *, since: datetime
) -> dict[str, list[FlowRun]]:
    """The runs of each cooldown key due at or after ``since``, newest first.

    Keys are asked ``KEYS_PER_READ`` at a time in one call each; a chunk whose answer fills its
    limit may have cut some key short, so its keys are then asked one by one.
    """
    ordered = sorted(keys)
    found: dict[str, list[FlowRun]] = {key: [] for key in ordered}
    for first in range(0, len(ordered), KEYS_PER_READ):
        chunk = ordered[first : first + KEYS_PER_READ]
        limit = RECENT_RUNS_LIMIT * len(chunk)
        runs = await _read_recent(client, chunk, since=since, limit=limit)
        if len(runs) >= limit and len(chunk) > 1:
            for key in chunk:
                found[key] = await _read_recent(client, [key], since=since, limit=RECENT_RUNS_LIMIT)
            continue
        for run in runs:
            for key in cooldown_keys(run.tags):
                if key in found:
                    found[key].append(run)
    return found


async def _read_recent(
    client: PrefectClient, keys: list[str], *, since: datetime, limit: int
) -> list[FlowRun]:
    return await client.read_flow_runs(
        flow_run_filter=recent_runs_filter(keys, since=since),
        sort=FlowRunSort.EXPECTED_START_TIME_DESC,
        limit=limit,
    )
