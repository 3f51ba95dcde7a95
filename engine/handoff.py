"""The alert path's seams: intake hands alerts to a dispatcher, which hands runs to a launcher."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol
from uuid import UUID

if TYPE_CHECKING:
    from prefect.client.schemas.objects import FlowRun


class HandoffUnavailableError(Exception):
    """The run store (Prefect's API) cannot take work now; the receiver answers 503 so
    Alertmanager retries, and nothing is lost."""


class RunRejectedError(Exception):
    """The run store refused the run (parameters not matching the flow, deployment deleted): a
    catalog or configuration error that retrying cannot fix."""


@dataclass(frozen=True)
class RunRequest:
    """One matched alert, to become exactly one flow run.

    Attributes:
        runbook: The runbook's name.
        deployment: The Prefect deployment, ``flow-name/deployment-name``.
        parameters: The flow run's parameters.
        idempotency_key: Same key, same run: built from runbook, fingerprint and startsAt.
        alert_fingerprint: Alertmanager's fingerprint of the alert.
        alert_starts_at: When the alert started firing.
        alertname: The alert's name (for tags and logs).
        concurrency_key: Runs sharing this key never act on their target at once.
        labels: The alert's labels, kept on the run for the record.
        cooldown_key: ``<runbook>:<target>``; another episode of this key within
            ``cooldown_seconds`` of a run starts nothing. None: no cooldown.
        cooldown_seconds: The cooldown; None or 0: no cooldown.
        joins_incident: The shared object (``kube-proxy``) whose open incident this alert
            joins instead of starting a run; None: it always starts its own.
    """

    runbook: str
    deployment: str
    parameters: Mapping[str, Any]
    idempotency_key: str
    alert_fingerprint: str
    alert_starts_at: datetime
    alertname: str
    concurrency_key: str | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    cooldown_key: str | None = None
    cooldown_seconds: float | None = None
    joins_incident: str | None = None


@dataclass(frozen=True)
class RunHandle:
    """The flow run a request maps to.

    Attributes:
        flow_run_id: The run's id in Prefect.
        created: False when the run already existed (a duplicate delivery) or none was
            created because of a cooldown.
        suppressed: Set when no run was created because a recent run of the same cooldown key
            holds this one back; says which run and how long ago. ``flow_run_id`` is then
            that recent run.
        joined: Set when no run was created because the alert joined the open incident of
            run ``flow_run_id`` (which verifies its target); says so in words.
    """

    flow_run_id: UUID
    created: bool
    suppressed: str | None = None
    joined: str | None = None


@dataclass(frozen=True)
class ResolvedAlert:
    """A resolved notification for one alert.

    Attributes:
        alert_fingerprint: Alertmanager's fingerprint of the alert.
        alert_starts_at: When the alert started firing (identifies the episode).
        ends_at: When Alertmanager saw it resolve.
        alertname: The alert's name.
    """

    alert_fingerprint: str
    alert_starts_at: datetime
    ends_at: datetime
    alertname: str


class RunDispatcher(Protocol):
    """Durably hands matched alerts over to flow runs."""

    async def submit(self, request: RunRequest) -> RunHandle:
        """Create (or find, for the same idempotency key) the flow run for a matched alert.

        Returns only once the run is persisted. When a recent run of the request's cooldown key
        holds it back, creates nothing and returns that run with ``suppressed`` set.

        Raises:
            HandoffUnavailableError: the run store cannot be reached.
        """
        ...

    async def resolve(self, alert: ResolvedAlert) -> list[UUID]:
        """Record that an alert resolved and stop its runs still waiting to act.

        Returns:
            The ids of the runs that were told (cancelled, or marked so they skip mutations).

        Raises:
            HandoffUnavailableError: the run store cannot be reached.
        """
        ...

    async def check_ready(self) -> None:
        """Raise HandoffUnavailableError unless the run store answers."""
        ...


class RunLauncher(Protocol):
    """Starts a freshly created run right away (the warm executor)."""

    def launch(self, flow_run: FlowRun) -> None:
        """Claim and run ``flow_run`` in the background; returns at once."""
        ...
