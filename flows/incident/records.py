"""An incident on a shared object as Prefect keeps it: its marker and the alerts that joined (pure).

A run that is about to change a shared object (every node's kube-proxy) for its alert first
creates the object's *marker*, a Prefect Variable whose name is unique per cluster and object:
Prefect creates a name once, so of two runs (on any engine replica) one owns the incident and
the other joins it. The marker names its owner run and says whether the incident is still open.

Alerts that join are written as *join* records, inputs of the owner's flow run (kept with it,
any size): the dispatcher writes one per batch for the alerts it did not start runs for, a run
that joined writes its own. The owner reads them all once it has closed the incident, verifies
each target and starts a run for each one still failing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from enum import StrEnum
from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict

from flows.approval.models import Coverage

MARKER_TAG = "runbooks-incident"
"""The tag of every incident marker."""
JOIN_PREFIX = "incident-join-"
"""The key prefix of the owner run's inputs that hold join records."""


class IncidentStatus(StrEnum):
    """Whether alerts may still join an incident."""

    OPEN = "open"
    CLOSED = "closed"
    """The owner has read the joins it answers for: a later alert starts its own run."""


class Incident(BaseModel):
    """One cause, one plan, one approval: what the marker of a shared object says.

    Attributes:
        cluster: The cluster's key (`cluster_key`).
        shared: The shared object (a `runbooks.model.SharedObject` value).
        owner_run_id: The run that plans, asks for and makes the change.
        owner_run_name: That run's name, for humans.
        cause: What the owner found, in one line.
        nodes: The nodes whose kube-proxy the owner plans to restart.
        opened_at: When the owner created the marker.
        status: Whether alerts may still join.
        outcome: How the owner's run ended, once closed.
    """

    model_config = ConfigDict(frozen=True)

    cluster: str
    shared: str
    owner_run_id: str
    owner_run_name: str | None = None
    cause: str
    nodes: tuple[str, ...] = ()
    opened_at: datetime
    status: IncidentStatus = IncidentStatus.OPEN
    outcome: str | None = None

    @property
    def owner(self) -> str:
        """The owner run, as a human reads it: its name and id."""
        return f"{self.owner_run_name or 'run'} ({self.owner_run_id})"


class JoinedAlert(BaseModel):
    """One alert an incident answers for instead of a run of its own.

    Attributes:
        alertname: The alert's name.
        fingerprint: Alertmanager's fingerprint.
        starts_at: When the episode started firing.
        runbook: The runbook it matched.
        deployment: The runbook's deployment (``flow/deployment``), to start a run if needed.
        parameters: The run's parameters, as the dispatcher built them.
        tags: The run's tags (its runbook, alert, target), as the dispatcher built them.
        labels: The run's labels (the alert's labels).
        idempotency_key: The run's key: a run started for it later is the same run.
        joined_at: When it joined.
        run_id: The run that joined (and ended), when a run joined; None: the dispatcher.
        run_name: That run's name.
    """

    model_config = ConfigDict(frozen=True)

    alertname: str
    fingerprint: str
    starts_at: datetime
    runbook: str
    deployment: str
    parameters: dict[str, Any]
    tags: list[str]
    labels: dict[str, Any]
    idempotency_key: str
    joined_at: datetime
    run_id: str | None = None
    run_name: str | None = None

    @property
    def target(self) -> str:
        """What the alert is about: ``namespace/service``, a node, or the cluster."""
        namespace, service = self.parameters.get("namespace"), self.parameters.get("service")
        if namespace and service:
            return f"{namespace}/{service}"
        return str(self.parameters.get("instance") or "the cluster")

    @property
    def service(self) -> tuple[str, str] | None:
        """The Service the alert is about, if it names one."""
        namespace, service = self.parameters.get("namespace"), self.parameters.get("service")
        return (str(namespace), str(service)) if namespace and service else None


def cluster_key(server: str) -> str:
    """A short key for the cluster at API server URL `server`: markers are per cluster."""
    return hashlib.sha256(server.rstrip("/").encode()).hexdigest()[:12]


def marker_name(cluster: str, shared: str) -> str:
    """The Variable holding the incident marker of `shared` in `cluster`."""
    return f"incident-{cluster}-{shared}"


def join_key(writer: str) -> str:
    """The owner run's input holding one join record (``writer`` unique per write)."""
    return f"{JOIN_PREFIX}{writer}"


def pack_joins(alerts: Sequence[JoinedAlert]) -> str:
    """The alerts as one join record's value."""
    return orjson.dumps([alert.model_dump(mode="json") for alert in alerts]).decode()


def unpack_joins(values: Iterable[str]) -> list[JoinedAlert]:
    """Every alert the records hold, once per episode (its first join), earliest first."""
    return first_joins(alert for text in values for alert in unpack_record(text))


def unpack_record(text: str) -> list[JoinedAlert]:
    """The alerts one join record holds (none if it is not a list)."""
    value: Any = orjson.loads(text)
    return [JoinedAlert.model_validate(item) for item in value] if isinstance(value, list) else []


def first_joins(alerts: Iterable[JoinedAlert]) -> list[JoinedAlert]:
    """Each episode's first join (an alert redelivered joins again), earliest first."""
    first: dict[tuple[str, datetime], JoinedAlert] = {}
    for alert in alerts:
        key = (alert.fingerprint, alert.starts_at)
        if key not in first or alert.joined_at < first[key].joined_at:
            first[key] = alert
    return sorted(first.values(), key=lambda a: (a.joined_at, a.fingerprint))


def covered_targets(alerts: Iterable[JoinedAlert]) -> Mapping[str, list[JoinedAlert]]:
    """The alerts by target, in order of first join."""
    targets: dict[str, list[JoinedAlert]] = {}
    for alert in alerts:
        targets.setdefault(alert.target, []).append(alert)
    return targets


LISTED = 20
"""Most targets a request names one by one; the rest are counted."""


def coverage_of(incident_shared: str, cause: str, covered: Sequence[JoinedAlert]) -> Coverage:
    """What one request says of the other alerts its incident answers for."""
    targets = list(covered_targets(covered))
    return Coverage(
        shared=incident_shared,
        cause=cause,
        alerts=len(covered),
        targets=tuple(targets[:LISTED]),
        more_targets=max(0, len(targets) - LISTED),
    )
