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

import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from prefect.client.orchestration import PrefectClient
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

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

MARKERS_PAGE = 50
"""More open incidents than shared objects there are never exist in one cluster."""
FRESH_SECONDS = 1.0
"""How long a read of the open incidents serves the batches that follow it."""


class OpenIncidents:
    """The open incidents of one cluster, read at most once a second.

    A read a moment old is safe both ways: an alert that joins an incident closed meanwhile
    finds it closed on the read after its write and starts its run; an incident opened
    meanwhile is found by the runs those alerts start, which then join it.
    """

    def __init__(
        self,
        cluster: str,
        *,
        fresh_seconds: float = FRESH_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Read `cluster`'s open incidents, keeping each read `fresh_seconds`."""
        self.cluster = cluster
        self._fresh = fresh_seconds
        self._clock = clock
        self._read: tuple[float, dict[str, Incident]] | None = None

    async def read(self, client: PrefectClient) -> dict[str, Incident]:
        """The open incidents by shared object, as read within the last `fresh_seconds`."""
        now = self._clock()
        if self._read is not None and now - self._read[0] < self._fresh:
            return self._read[1]
        incidents = await read_open_incidents(client, self.cluster)
        self._read = (now, incidents)
        return incidents

    def forget(self) -> None:
        """Read them afresh next time (one was found closed)."""
        self._read = None


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
