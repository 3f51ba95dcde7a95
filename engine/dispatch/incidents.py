"""The dispatcher's side of incidents: find the open ones, and record the alerts that join them.

An alert whose runbook joins incidents of a shared object (``joins_incident: kube-proxy``) and
that arrives while a live run owns that object's open incident starts no run: it is written,
with the whole batch's other joins, as one join record per incident (an input of the owner's
flow run: one write per batch). Only once the record is written, and the incident read again still
open, is the alert answered: the owner reads its joins only after closing the incident, so an
alert answered *joined* is one the owner answers for. An incident found closed on that second
read sends the batch's joins round again, and they start runs of their own.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import httpx
from prefect.client.orchestration import PrefectClient
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
from pydantic import ValidationError

from engine.handoff import RunRequest
from flows.incident.records import (
    MARKER_TAG,
    Incident,
    IncidentStatus,
    JoinedAlert,
    join_key,
    marker_name,
    pack_joins,
)
from flows.run_identity import run_labels, run_tags

logger = logging.getLogger(__name__)

MARKERS_PAGE = 50
"""More open incidents than shared objects there are never exist in one cluster."""
FRESH_SECONDS = 1.0
"""How long a read of the open incidents serves the batches that follow it."""
FRESH_SECONDS_WHILE_NONE = 0.2
"""How long a read that found none serves them: in a storm's first seconds every alert that
arrives before the first run's incident is seen starts a run of its own (and each run is work
Prefect does while the incident goes on), so a new incident is looked for sooner than an open
one is re-read. One small read five times a second, and only while alerts that could join
arrive."""
STALE_SECONDS = 5.0
"""How long a read serves them while a fresh one is made in the background: past this, a batch
waits for the read."""

Reader = Callable[[PrefectClient, str], Awaitable[dict[str, Incident]]]


class OpenIncidents:
    """The open incidents of one cluster, read at most once a second, off the alerts' path.

    A read a moment old is safe both ways: an alert that joins an incident closed meanwhile
    finds it closed on the read after its write and starts its run; an incident opened
    meanwhile is found by the runs those alerts start, which then join it. So a read older than
    `FRESH_SECONDS` still answers while the next is made in the background: a batch of alerts
    never waits for this read (one Prefect call per second on the path of every join was the
    slowest part of a storm), unless none was made for `STALE_SECONDS`. A read that found no
    open incident is fresh for `FRESH_SECONDS_WHILE_NONE` only.
    """

    def __init__(
        self,
        cluster: str,
        *,
        fresh_seconds: float = FRESH_SECONDS,
        fresh_seconds_while_none: float = FRESH_SECONDS_WHILE_NONE,
        stale_seconds: float = STALE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        reader: Reader | None = None,
    ) -> None:
        """Read `cluster`'s open incidents, each read fresh for `fresh_seconds` (one that found
        none for `fresh_seconds_while_none`), then serving while a fresh one is made until
        `stale_seconds`; `reader` reads them (tests)."""
        self.cluster = cluster
        self._fresh = fresh_seconds
        self._fresh_while_none = fresh_seconds_while_none
        self._stale = stale_seconds
        self._clock = clock
        self._reader = reader or read_open_incidents
        self._read: tuple[float, dict[str, Incident]] | None = None
        self._generation = 0
        self._refresh: asyncio.Task[None] | None = None

    async def read(self, client: PrefectClient) -> dict[str, Incident]:
        """The open incidents by shared object, as read within the last `stale_seconds`."""
        if self._read is not None:
            age = self._clock() - self._read[0]
            if age < (self._fresh if self._read[1] else self._fresh_while_none):
                return self._read[1]
            if age < self._stale:
                self._refresh_in_background(client)
                return self._read[1]
        return await self._read_now(client)

    def forget(self) -> None:
        """Read them afresh next time (one was found closed); a read under way is not kept."""
        self._read = None
        self._generation += 1

    async def aclose(self) -> None:
        """Stop a read under way in the background."""
        refresh, self._refresh = self._refresh, None
        if refresh is not None:
            refresh.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await refresh

    async def _read_now(self, client: PrefectClient) -> dict[str, Incident]:
        # Stamped when the read began: what it found may have changed while it was answered.
        began, generation = self._clock(), self._generation
        incidents = await self._reader(client, self.cluster)
        if generation == self._generation:
            self._read = (began, incidents)
        return incidents

    def _refresh_in_background(self, client: PrefectClient) -> None:
        if self._refresh is None or self._refresh.done():
            self._refresh = asyncio.get_running_loop().create_task(
                self._refresh_quietly(client), name=f"open-incidents-{self.cluster}"
            )

    async def _refresh_quietly(self, client: PrefectClient) -> None:
        try:
            await self._read_now(client)
        except (httpx.HTTPError, ValidationError) as error:
            # Not lost: past STALE_SECONDS a batch reads them itself, and fails there as usual.
            logger.warning("reading the open incidents failed (read again later): %r", error)


async def read_open_incidents(client: PrefectClient, cluster: str) -> dict[str, Incident]:
    """The incidents of `cluster` open now whose owner run is still live, by shared object."""
    body = {
        "variables": {
            "tags": {"all_": [MARKER_TAG]},
            "name": {"like_": marker_name(cluster, "")},
        },
        "limit": MARKERS_PAGE,
    }
    response = await client.request("POST", "/variables/filter", json=body)
    markers = [Incident.model_validate(item["value"]) for item in response.json()]
    open_ = [m for m in markers if m.cluster == cluster and m.status is IncidentStatus.OPEN]
    if not open_:
        return {}
    owners = [UUID(m.owner_run_id) for m in open_]
    runs = await client.read_flow_runs(
        flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=owners)), limit=len(owners)
    )
    live = {str(run.id) for run in runs if run.state is None or not run.state.is_final()}
    return {m.shared: m for m in open_ if m.owner_run_id in live}


def joined_alert(request: RunRequest, *, now: datetime) -> JoinedAlert:
    """What the incident keeps of `request`: enough to verify its target or start its run."""
    labels: dict[str, Any] = dict(run_labels(request))
    return JoinedAlert(
        alertname=request.alertname,
        fingerprint=request.alert_fingerprint,
        starts_at=request.alert_starts_at,
        runbook=request.runbook,
        deployment=request.deployment,
        parameters=dict(request.parameters),
        tags=run_tags(request),
        labels=labels,
        idempotency_key=request.idempotency_key,
        joined_at=now,
    )


async def record_joins(
    client: PrefectClient,
    joins: Mapping[str, Sequence[JoinedAlert]],
    incidents: Mapping[str, Incident],
) -> None:
    """Write each incident's joined alerts (by shared object) as one join record."""
    batch = uuid.uuid4().hex
    for shared, alerts in joins.items():
        owner = UUID(incidents[shared].owner_run_id)
        await client.create_flow_run_input(owner, join_key(batch), pack_joins(alerts))


async def still_open(client: PrefectClient, incident: Incident) -> bool:
    """Whether `incident` still takes joins (its owner has not closed it)."""
    found = await client.read_variable_by_name(marker_name(incident.cluster, incident.shared))
    if found is None or not isinstance(found.value, dict):
        return False
    current = Incident.model_validate(found.value)
    return current.owner_run_id == incident.owner_run_id and current.status is IncidentStatus.OPEN
