"""Deciding, for a batch of run requests, which to create and which already have an answer (pure).

The dispatcher reads, for a whole batch, the runs already persisted under its idempotency keys and
the recent runs of its cooldown keys, and asks `plan_submits` what to do with each request, in
arrival order, as if they had come one after the other:

- its idempotency key already has a run: that run (a redelivery);
- an earlier request of the batch has the same key: the run that one creates;
- its runbook joins incidents of a shared object that has an open one: no run, it joins;
- a recent run of its cooldown key holds it back: no run, and why;
- an earlier request of the batch creates a run for the same cooldown key (another episode on the
  same target arriving together): held back by that run;
- otherwise: create it.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from prefect.client.schemas.objects import FlowRun

from engine.dispatch.cooldown import CooldownHold, find_hold
from engine.handoff import RunRequest


@dataclass(frozen=True)
class Existing:
    """The request's idempotency key already has this run."""

    run_id: UUID


@dataclass(frozen=True)
class Held:
    """A recent run of the request's cooldown key holds it back."""

    hold: CooldownHold


@dataclass(frozen=True)
class Joins:
    """No run: the request joins the open incident of ``shared`` (whose owner answers for it)."""

    shared: str


@dataclass(frozen=True)
class Create:
    """Create a run for the request."""


@dataclass(frozen=True)
class SameAs:
    """An earlier request of the batch (index ``leader``) creates this request's run."""

    leader: int


@dataclass(frozen=True)
class HeldBy:
    """An earlier request of the batch (index ``leader``) creates a run on the same cooldown key."""

    leader: int


Decision = Existing | Held | Joins | Create | SameAs | HeldBy


def plan_submits(
    requests: Sequence[RunRequest],
    *,
    existing: Mapping[str, FlowRun],
    recent: Mapping[str, Sequence[FlowRun]],
    now: datetime,
    open_incidents: Collection[str] = (),
) -> list[Decision]:
    """One decision per request, in order.

    Args:
        requests: The batch, in arrival order.
        existing: Runs already persisted, by idempotency key.
        recent: Recent runs of each cooldown key of the batch (any order).
        now: When the cooldown windows end.
        open_incidents: The shared objects with an open incident a live run owns.
    """
    decisions: list[Decision] = []
    creating: dict[str, int] = {}  # idempotency key -> index of the request creating it
    cooling: dict[str, int] = {}  # cooldown key -> index of the request creating its run
    for index, request in enumerate(requests):
        decision = _decide(
            request,
            existing=existing,
            recent=recent,
            now=now,
            creating=creating,
            cooling=cooling,
            open_incidents=open_incidents,
        )
        if isinstance(decision, Create):
            creating[request.idempotency_key] = index
            if request.cooldown_key and request.cooldown_seconds:
                cooling[request.cooldown_key] = index
        decisions.append(decision)
    return decisions


def _decide(
    request: RunRequest,
    *,
    existing: Mapping[str, FlowRun],
    recent: Mapping[str, Sequence[FlowRun]],
    now: datetime,
    creating: Mapping[str, int],
    cooling: Mapping[str, int],
    open_incidents: Collection[str],
) -> Decision:
    run = existing.get(request.idempotency_key)
    if run is not None:
        return Existing(run.id)
    if request.idempotency_key in creating:
        return SameAs(creating[request.idempotency_key])
    if request.joins_incident is not None and request.joins_incident in open_incidents:
        return Joins(request.joins_incident)
    key, seconds = request.cooldown_key, request.cooldown_seconds
    if not key or not seconds:
        return Create()
    if key in cooling:
        return HeldBy(cooling[key])
    hold = find_hold(
        recent.get(key, ()), idempotency_key=request.idempotency_key, now=now, seconds=seconds
    )
    return Create() if hold is None else Held(hold)
