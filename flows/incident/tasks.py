"""The incident ledger's calls as Prefect tasks: retried when Prefect's API fails for a moment."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final
from uuid import UUID

import httpx
from prefect import Task, task
from prefect.cache_policies import NO_CACHE
from prefect.client.orchestration import SyncPrefectClient, get_client
from prefect.client.schemas.objects import State, TaskRun
from prefect.runtime import flow_run
from tenacity import retry, retry_if_exception, stop_after_attempt, wait_exponential

from flows.incident import ledger
from flows.incident.records import Incident, JoinedAlert, cluster_key
from flows.run_identity import as_utc
from flows.runtime import current_runtime

RETRIES = 3
RETRY_DELAY_SECONDS = 1
_SERVER_ERROR = 500


def _unavailable(error: BaseException) -> bool:
    if isinstance(error, httpx.HTTPStatusError):
        return error.response.status_code >= _SERVER_ERROR
    return isinstance(error, httpx.TransportError | ledger.IncidentContendedError)


def retry_on_unavailable(task: Task[..., Any], task_run: TaskRun, state: State[Any]) -> bool:
    """Retry when Prefect's API was unreachable or failing, or the marker changed hands."""
    del task, task_run
    error = state.result(raise_on_failure=False)
    return isinstance(error, BaseException) and _unavailable(error)


RETRIED_WHILE_PREFECT_FAILS: Final[Mapping[str, Any]] = {
    "cache_policy": NO_CACHE,
    "retries": RETRIES,
    "retry_delay_seconds": RETRY_DELAY_SECONDS,
    "retry_condition_fn": retry_on_unavailable,
}
"""The arguments of every step that only talks to Prefect's API: ``@task(**...)``."""


@task(name="claim-incident", **RETRIED_WHILE_PREFECT_FAILS)
def claim(
    shared: str,
    *,
    cause: str,
    nodes: tuple[str, ...],
    opened_at: datetime,
    successor_of: str | None = None,
) -> ledger.Claim:
    """Own the incident of `shared` in this run's cluster, or find the run that owns it
    (`successor_of`: the run this one continues, whose incident passes to it)."""
    with current_runtime().kube_factory() as kube:
        cluster = cluster_key(kube.server)
    proposal = Incident(
        cluster=cluster,
        shared=shared,
        owner_run_id=str(flow_run.get_id()),
        owner_run_name=flow_run.get_name(),
        cause=cause,
        nodes=nodes,
        opened_at=opened_at,
    )
    return ledger.claim_incident(proposal, successor_of=successor_of)


@task(name="amend-incident", **RETRIED_WHILE_PREFECT_FAILS)
def amend(incident: Incident, *, cause: str, nodes: tuple[str, ...]) -> Incident:
    """Say what the owner now plans."""
    return ledger.amend_incident(incident, cause=cause, nodes=nodes)


@task(name="join-incident", **RETRIED_WHILE_PREFECT_FAILS)
def join(incident: Incident, alert: JoinedAlert) -> None:
    """Record that `incident` answers for `alert`."""
    ledger.join_incident(incident, alert)


@task(name="close-incident", **RETRIED_WHILE_PREFECT_FAILS)
def close(incident: Incident, *, outcome: str) -> Incident:
    """Stop alerts joining `incident`."""
    return ledger.close_incident(incident, outcome=outcome)


# Reads are not steps: plain calls, retried here, so they add no task runs (each one costs
# Prefect several writes, and an incident's owner reads before every wave).
_READ_RETRY = retry(
    retry=retry_if_exception(_unavailable),
    stop=stop_after_attempt(RETRIES + 1),
    wait=wait_exponential(multiplier=RETRY_DELAY_SECONDS / 2, max=RETRY_DELAY_SECONDS * 4),
    reraise=True,
)


@_READ_RETRY
def joins(reader: ledger.JoinReader) -> list[JoinedAlert]:
    """Every alert that joined the incident `reader` reads."""
    return reader.read()


@_READ_RETRY
def resolutions(alerts: list[JoinedAlert]) -> dict[tuple[str, datetime], datetime]:
    """When each alert resolved, for those that did."""
    return ledger.read_resolutions(alerts)


@task(name="release-incident", **RETRIED_WHILE_PREFECT_FAILS)
def release(incident: Incident) -> None:
    """Delete the incident's marker: the next cause opens a new incident."""
    ledger.release_incident(incident)


@task(name="start-run-for-joined-alert", **RETRIED_WHILE_PREFECT_FAILS)
def start_run(alert: JoinedAlert, *, idempotency_key: str) -> str:
    """Start the run `alert` would have had (its deployment, parameters, tags and labels).

    The key makes it one run however often this is called: the alert's own key when the
    dispatcher joined it (so a run the dispatcher created meanwhile is the same run).
    """
    client: SyncPrefectClient
    with get_client(sync_client=True) as client:
        deployment = client.read_deployment_by_name(alert.deployment)
        created = client.create_flow_run_from_deployment(
            UUID(str(deployment.id)),
            parameters=alert.parameters,
            tags=alert.tags,
            labels=alert.labels,
            idempotency_key=idempotency_key,
        )
    return f"{created.name} ({created.id})"


def hand_back(incident: Incident, *, outcome: str) -> list[str]:
    """Close `incident` and start its own run for every joined alert still firing.

    For an owner whose change does not verify Services (a rollback): the alerts that joined
    while it worked each get the run they would have had. Returns one line per alert, for the
    owner's report.
    """
    closed = close(incident, outcome=outcome)
    covered = [
        a
        for a in joins(ledger.JoinReader(incident.owner_run_id))
        if a.run_id != incident.owner_run_id
    ]
    resolved = resolutions(covered) if covered else {}
    lines: list[str] = []
    for alert in covered:
        if (alert.fingerprint, as_utc(alert.starts_at)) in resolved:
            lines.append(f"{alert.alertname} on {alert.target}: resolved meanwhile")
            continue
        key = (
            alert.idempotency_key
            if alert.run_id is None
            else (f"{alert.idempotency_key}/after-{incident.owner_run_id[:8]}")
        )
        lines.append(
            f"{alert.alertname} on {alert.target}: run {start_run(alert, idempotency_key=key)}"
        )
    release(closed)
    return lines
