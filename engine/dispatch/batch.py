"""One batch of run requests against Prefect: read what exists, decide, create the rest in bulk.

A batch costs one read of its keys' runs, one read of its cooldown keys' recent runs (when any),
and, when something is new, one bulk create per deployment (one transaction for up to 100 runs)
and one read of what it created. Every created run carries the batch's nonce in its context, so
the read also tells a run this batch inserted from one another replica inserted for the same key
an instant before (Prefect answers both with the run's id).

On PostgreSQL two replicas may insert the same keys at once (an alert delivered to both): each
insert of a key another open transaction holds waits for it, so each bulk create inserts its
runs in key order, and the waits never close a circle (a deadlock, which fails one whole
transaction). Prefect still answers a bulk create whose transaction failed with its runs
"created": only the runs read back are taken as persisted, the others are sent again.

SQLite lets one writer in at a time and fails the others' inserts with "database is locked";
Prefect's bulk create reports that per run. Such runs are sent again after a short back-off
until the deadline; the runs that made it are answered meanwhile, the rest raise
HandoffUnavailableError (a 503: Alertmanager retries and finds them by key).
"""

from __future__ import annotations

import asyncio
import itertools
import random
import time
import uuid
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import httpx
from prefect.client.orchestration import PrefectClient
from prefect.client.schemas.actions import DeploymentFlowRunCreate
from prefect.client.schemas.objects import FlowRun
from prefect.states import Scheduled, to_state_create

from engine.dispatch.batch_plan import (
    Create,
    Decision,
    Existing,
    Held,
    Joins,
    SameAs,
    plan_submits,
)
from engine.dispatch.bulk_runs import BulkFailure, create_runs, read_runs, read_runs_by_key
from engine.dispatch.cooldown import CooldownHold, read_recent_runs
from engine.dispatch.incidents import OpenIncidents, joined_alert, record_joins, still_open
from engine.dispatch.prefect_errors import prefect_reason
from engine.handoff import HandoffUnavailableError, RunHandle, RunRejectedError, RunRequest
from flows.incident.records import Incident, JoinedAlert
from flows.run_identity import run_labels, run_tags

#: The run context entry holding the nonce of the batch that created the run.
NONCE_KEY = "runbooks_batch"
FIRST_BACKOFF = 0.05
LONGEST_BACKOFF = 1.0


class _TransientError(HandoffUnavailableError):
    """Prefect failed to insert a run for a reason that may pass (a locked database)."""


@dataclass
class BatchResult:
    """What became of a batch.

    Attributes:
        handles: Per request, in order: its run, or the error its caller raises.
        new_runs: The runs this batch created (to start them).
    """

    handles: list[RunHandle | BaseException]
    new_runs: list[FlowRun] = field(default_factory=list)


async def submit_batch(
    client: PrefectClient,
    requests: Sequence[RunRequest],
    *,
    deployments: Mapping[str, UUID],
    writes: asyncio.Lock,
    deadline: float,
    validated: Collection[str] = (),
    incidents: OpenIncidents | None = None,
) -> BatchResult:
    """Hand a batch to Prefect, sending runs refused for a transient reason again until
    ``deadline`` (monotonic seconds).

    Args:
        client: The Prefect API.
        requests: The batch, in arrival order; every deployment is in ``deployments``.
        deployments: Deployment ids by name.
        writes: Held around the bulk create, so this process writes one thing at a time.
        deadline: When to stop sending again and report the rest unavailable.
        validated: Deployments whose runs' parameters the caller has checked against their
            schema (`engine.dispatch.parameter_check`): Prefect is asked not to check them again.
        incidents: The cluster's open incidents, which alerts join instead of starting runs
            (`engine.dispatch.incidents`); None: every alert starts its own run.
    """
    result = BatchResult(handles=[_TransientError("not sent")] * len(requests))
    pending = list(range(len(requests)))
    for attempt in itertools.count():
        round_ = await _submit_once(
            client,
            [requests[i] for i in pending],
            deployments=deployments,
            writes=writes,
            validated=validated,
            incidents=incidents,
        )
        result.new_runs += round_.new_runs
        for index, handle in zip(pending, round_.handles, strict=True):
            result.handles[index] = handle
        pending = [i for i in pending if isinstance(result.handles[i], _TransientError)]
        pause = min(LONGEST_BACKOFF, FIRST_BACKOFF * 2**attempt) * random.uniform(0.5, 1.0)
        if not pending or time.monotonic() + pause >= deadline:
            break
        await asyncio.sleep(pause)
    return result


async def _submit_once(
    client: PrefectClient,
    requests: Sequence[RunRequest],
    *,
    deployments: Mapping[str, UUID],
    writes: asyncio.Lock,
    validated: Collection[str],
    incidents: OpenIncidents | None,
) -> BatchResult:
    existing = await read_runs_by_key(client, {request.idempotency_key for request in requests})
    now = datetime.now(UTC)
    wants = any(r.joins_incident and r.idempotency_key not in existing for r in requests)
    open_ = await incidents.read(client) if incidents is not None and wants else {}
    # Alerts that will join an incident need no cooldown read.
    cooling = [r for r in requests if r.joins_incident is None or r.joins_incident not in open_]
    recent = await _read_cooldowns(client, cooling, existing=existing, now=now)
    decisions = plan_submits(
        requests, existing=existing, recent=recent, now=now, open_incidents=open_.keys()
    )
    joined = await _join(client, requests, decisions, incidents=open_, writes=writes, now=now)
    if incidents is not None and len(joined) < len(
        {d.shared for d in decisions if isinstance(d, Joins)}
    ):
        incidents.forget()  # one closed as we joined: read afresh for the resubmission
    to_create = [i for i, decision in enumerate(decisions) if isinstance(decision, Create)]
    nonce = uuid.uuid4().hex
    async with writes:
        outcomes = await _create(
            client,
            [requests[i] for i in to_create],
            deployments=deployments,
            nonce=nonce,
            validated=validated,
        )
    run_ids = [outcome for outcome in outcomes if isinstance(outcome, UUID)]
    persisted = await read_runs(client, run_ids)
    new_runs = [run for run in persisted if run.context.get(NONCE_KEY) == nonce]
    ours = {run.id for run in new_runs}
    found = {run.id for run in persisted}
    made = {
        index: outcome if not isinstance(outcome, UUID) or outcome in found else _NOT_PERSISTED
        for index, outcome in zip(to_create, outcomes, strict=True)
    }
    handles = [
        _handle(index, request, decision, made=made, ours=ours, joined=joined)
        for index, (request, decision) in enumerate(zip(requests, decisions, strict=True))
    ]
    return BatchResult(handles=handles, new_runs=new_runs)


async def _join(
    client: PrefectClient,
    requests: Sequence[RunRequest],
    decisions: Sequence[Decision],
    *,
    incidents: Mapping[str, Incident],
    writes: asyncio.Lock,
    now: datetime,
) -> dict[str, Incident]:
    """Write the batch's joins; the incidents still open after (their joins stand)."""
    by_shared: dict[str, list[JoinedAlert]] = {}
    for request, decision in zip(requests, decisions, strict=True):
        if isinstance(decision, Joins):
            by_shared.setdefault(decision.shared, []).append(joined_alert(request, now=now))
    if not by_shared:
        return {}
    async with writes:
        await record_joins(client, by_shared, incidents)
    return {
        shared: incidents[shared]
        for shared in by_shared
        if await still_open(client, incidents[shared])
    }


async def _create(
    client: PrefectClient,
    requests: Sequence[RunRequest],
    *,
    deployments: Mapping[str, UUID],
    nonce: str,
    validated: Collection[str],
) -> list[UUID | BulkFailure]:
    by_deployment: dict[UUID, list[int]] = {}
    for index, request in enumerate(requests):
        by_deployment.setdefault(deployments[request.deployment], []).append(index)
    outcomes: list[UUID | BulkFailure] = [BulkFailure("not sent", permanent=False)] * len(requests)
    for deployment_id, arrived in by_deployment.items():
        # In key order, as every replica inserts them (see the module's docstring).
        indices = sorted(arrived, key=lambda i: requests[i].idempotency_key)
        bodies = [
            _create_body(requests[i], nonce=nonce, validated=requests[i].deployment in validated)
            for i in indices
        ]
        try:
            results = await create_runs(client, deployment_id, bodies)
        except httpx.HTTPStatusError as exc:  # only 4xx get here; 5xx mean unavailable
            if exc.response.status_code >= 500:
                raise
            refused = BulkFailure(
                f"{exc.response.status_code} {exc.response.text[:300]}", permanent=True
            )
            results = [refused] * len(indices)
        for index, result in zip(indices, results, strict=True):
            outcomes[index] = result
    return outcomes


def _create_body(request: RunRequest, *, nonce: str, validated: bool) -> dict[str, Any]:
    create = DeploymentFlowRunCreate(
        parameters=dict(request.parameters),
        tags=run_tags(request),
        labels=run_labels(request),
        idempotency_key=request.idempotency_key,
        state=to_state_create(Scheduled()),
        context={NONCE_KEY: nonce},
    )
    if validated:
        create.enforce_parameter_schema = False
    body: dict[str, Any] = create.model_dump(mode="json", exclude_unset=True)
    return body


async def _read_cooldowns(
    client: PrefectClient,
    requests: Sequence[RunRequest],
    *,
    existing: Mapping[str, FlowRun],
    now: datetime,
) -> dict[str, list[FlowRun]]:
    """Recent runs of the cooldown keys of the requests that have no run yet."""
    windows: dict[str, float] = {}
    for request in requests:
        key, seconds = request.cooldown_key, request.cooldown_seconds
        if key and seconds and request.idempotency_key not in existing:
            windows[key] = max(seconds, windows.get(key, 0.0))
    if not windows:
        return {}
    since = now - timedelta(seconds=max(windows.values()))
    return await read_recent_runs(client, windows, since=since)


def _handle(
    index: int,
    request: RunRequest,
    decision: Decision,
    *,
    made: Mapping[int, UUID | BulkFailure],
    ours: set[UUID],
    joined: Mapping[str, Incident],
) -> RunHandle | BaseException:
    """The answer to one request of a batch, once the batch's runs are created."""
    if isinstance(decision, Existing):
        return RunHandle(flow_run_id=decision.run_id, created=False)
    if isinstance(decision, Held):
        return _held(request, decision.hold)
    if isinstance(decision, Joins):
        incident = joined.get(decision.shared)
        if incident is None:
            # Closed between our read and our write: the owner may not have read this join.
            return _TransientError(f"the {decision.shared} incident closed as the alert joined")
        return RunHandle(
            flow_run_id=UUID(incident.owner_run_id),
            created=False,
            joined=f"joined the {incident.shared} incident of run {incident.owner}: "
            f"{incident.cause}; that run verifies this target once its change is done",
        )
    outcome = made[index if isinstance(decision, Create) else decision.leader]
    if isinstance(outcome, BulkFailure):
        reason = prefect_reason(outcome.error)
        if outcome.permanent:
            return RunRejectedError(f"Prefect refused a run of {request.deployment}: {reason}")
        return _TransientError(f"Prefect created no run: {reason}")
    if isinstance(decision, Create):
        return RunHandle(flow_run_id=outcome, created=outcome in ours)
    if isinstance(decision, SameAs):
        return RunHandle(flow_run_id=outcome, created=False)
    return _held(request, CooldownHold(run_id=outcome, state_name="Scheduled", age_seconds=0.0))


def _held(request: RunRequest, hold: CooldownHold) -> RunHandle:
    message = hold.message(request.cooldown_key or "", request.cooldown_seconds or 0)
    return RunHandle(flow_run_id=hold.run_id, created=False, suppressed=message)


_NOT_PERSISTED = BulkFailure(
    "Prefect answered the run created, but its transaction failed", permanent=False
)
