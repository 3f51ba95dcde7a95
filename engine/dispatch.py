"""Hands matched alerts to Prefect as flow runs of their deployments, once per idempotency key.

Where the catalog's limits are enforced:
- cooldown per target, here: a run with a cooldown key is tagged ``cooldown:<key>``; before
  creating one, the dispatcher reads that tag's recent runs (one API call) and, when one counts
  (see `engine.cooldown`), creates nothing and returns it with ``suppressed`` set. Submits of one
  key are serialized in this process, so two episodes arriving together create one run; two
  replicas submitting different episodes of one key in the same few milliseconds can still both
  create (the check and the create are two calls); the executor then still runs them one after
  the other when they share a concurrency key (as the shipped catalog's runbooks do).
- concurrency per target, in the executor (`engine.executor`): runs are tagged
  ``target:<concurrency_key>`` and none is claimed while another run with its tag is active.

Resolutions are recorded before anything is cancelled, because cancelling is only airtight for
Scheduled runs (Prefect then refuses Pending, so no executor claims them). Prefect accepts
Cancelled -> Running, so a run already claimed (Pending) still starts, and an in-process
``pause_flow_run`` only wakes on Running: such runs learn of the resolution from
``is_alert_firing``, which flows check before each mutation.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Mapping
from datetime import datetime
from typing import Protocol
from uuid import UUID

import httpx
from prefect.client.orchestration import PrefectClient
from prefect.client.schemas.actions import DeploymentFlowRunCreate
from prefect.client.schemas.filters import (
    FlowRunFilter,
    FlowRunFilterState,
    FlowRunFilterStateType,
    FlowRunFilterTags,
)
from prefect.client.schemas.objects import FlowRun, StateType
from prefect.exceptions import Abort
from prefect.settings import PREFECT_API_AUTH_STRING, PREFECT_API_KEY, PREFECT_API_URL
from prefect.states import Cancelled, Scheduled, to_state_create
from prefect.utilities.engine import propose_state

from engine.alert_record import (
    AlertResolution,
    as_utc,
    episode_key,
    is_alert_firing,
    record_resolution,
)
from engine.cooldown import cooldown_tag, read_cooldown_hold
from engine.handoff import HandoffUnavailableError, ResolvedAlert, RunHandle, RunRequest
from engine.keyed_locks import KeyedLocks
from engine.targets import target_tag

logger = logging.getLogger(__name__)

#: States of a run that has not started acting yet: a resolution cancels these. Paused runs wait
#: at an approval gate: engine.approvals withdraws their request instead, so the flow itself
#: ends as alert_resolved and writes its report.
WAITING_STATES = frozenset({StateType.SCHEDULED, StateType.PENDING})


class RunRejectedError(Exception):
    """Prefect refused the run (parameters not matching the flow, deployment deleted): a catalog
    or configuration error that retrying cannot fix."""


class UnknownDeploymentError(RunRejectedError):
    """A request names a deployment the engine did not register (a catalog/config error)."""


class RunLauncher(Protocol):
    """Starts a freshly created run right away (the warm executor)."""

    def launch(self, flow_run: FlowRun) -> None:
        """Claim and run ``flow_run`` in the background; returns at once."""
        ...


def episode_tag(fingerprint: str, starts_at: datetime) -> str:
    """The tag shared by every run of one alert episode (what a resolution looks up)."""
    return f"episode:{episode_key(fingerprint, starts_at)}"


def run_tags(request: RunRequest) -> list[str]:
    """The tags a run carries, to find it in the UI and from a resolution or a cooldown check."""
    tags = [
        f"alert:{request.alertname}",
        f"fingerprint:{request.alert_fingerprint}",
        f"runbook:{request.runbook}",
        episode_tag(request.alert_fingerprint, request.alert_starts_at),
    ]
    if request.concurrency_key:
        tags.append(target_tag(request.concurrency_key))
    if request.cooldown_key:
        tags.append(cooldown_tag(request.cooldown_key))
    return tags


def run_labels(request: RunRequest) -> dict[str, str]:
    """Key-value labels kept on the run for the record: the alert's labels and its identity."""
    labels = {f"alert.{name}": value for name, value in request.labels.items()}
    labels["alert.fingerprint"] = request.alert_fingerprint
    labels["alert.starts_at"] = as_utc(request.alert_starts_at).isoformat()
    labels["runbook"] = request.runbook
    if request.concurrency_key:
        labels["concurrency_key"] = request.concurrency_key
    return labels


def resolved_message(alert: ResolvedAlert) -> str:
    """The state message of a run cancelled because its alert resolved."""
    return f"Alert {alert.alertname} resolved at {as_utc(alert.ends_at).isoformat()}; not needed."


class PrefectDispatcher:
    """``RunDispatcher`` on a Prefect API: one flow run per idempotency key, durably.

    The HTTP client is opened on first use, in the caller's event loop; ``aclose`` closes it.
    """

    def __init__(
        self,
        deployments: Mapping[str, UUID],
        *,
        launcher: RunLauncher | None = None,
        api_url: str | None = None,
        timeout: float = 7.0,
        ready_timeout: float = 2.0,
    ) -> None:
        """Create a dispatcher.

        Args:
            deployments: Deployment ids by ``flow-name/deployment-name`` (from registration).
            launcher: Started on each new run still Scheduled (the warm executor), if any.
            api_url: The Prefect API; default: PREFECT_API_URL.
            timeout: Longest a call may take, Prefect's own retries included; past it the
                handoff is unavailable (the receiver answers 503 and Alertmanager retries).
                Long enough for the client's retries of SQLite's "database is locked" 503s
                (2 s, then 4 s), and shorter than the receiver's whole-notification timeout
                (10 s), so an unreachable Prefect is reported, and counted, as such.
            ready_timeout: Longest a readiness check may take.
        """
        self._deployments = dict(deployments)
        self._launcher = launcher
        self._api_url = api_url
        self._timeout = timeout
        self._ready_timeout = ready_timeout
        self._client: PrefectClient | None = None
        self._client_lock = asyncio.Lock()
        self._cooldown_locks = KeyedLocks()

    async def submit(self, request: RunRequest) -> RunHandle:
        """Create (or find, for the same idempotency key) the flow run for a matched alert.

        When a recent run of the request's cooldown key holds it back, creates nothing and
        returns that run with ``suppressed`` saying why.
        """
        deployment_id = self._deployments.get(request.deployment)
        if deployment_id is None:
            raise UnknownDeploymentError(f"deployment {request.deployment!r} is not registered")
        key, seconds = request.cooldown_key, request.cooldown_seconds
        if not key or not seconds:
            return await self._create(request, deployment_id)
        async with self._cooldown_locks.hold(key):
            async with self._available(f"check the cooldown of {key}") as client:
                hold = await read_cooldown_hold(
                    client, key, seconds=seconds, idempotency_key=request.idempotency_key
                )
            if hold is None:
                return await self._create(request, deployment_id)
        message = hold.message(key, seconds)
        logger.info("no run created for %s: %s", request.runbook, message)
        return RunHandle(flow_run_id=hold.run.id, created=False, suppressed=message)

    async def _create(self, request: RunRequest, deployment_id: UUID) -> RunHandle:
        body = DeploymentFlowRunCreate(
            parameters=dict(request.parameters),
            tags=run_tags(request),
            labels=run_labels(request),
            idempotency_key=request.idempotency_key,
            state=to_state_create(Scheduled()),
        ).model_dump(mode="json", exclude_unset=True)
        try:
            async with self._available(f"create a run of {request.deployment}") as client:
                response = await client.request(
                    "POST",
                    "/deployments/{id}/create_flow_run",
                    path_params={"id": deployment_id},
                    json=body,
                )
        except httpx.HTTPStatusError as exc:  # only 4xx get here; 5xx mean unavailable
            raise RunRejectedError(
                f"Prefect refused a run of {request.deployment}: "
                f"{exc.response.status_code} {exc.response.text[:300]}"
            ) from exc
        flow_run = FlowRun.model_validate(response.json())
        # The server answers 201 only to the call that inserted the run (idempotency by key).
        created = response.status_code == httpx.codes.CREATED
        if self._launcher is not None and flow_run.state_type == StateType.SCHEDULED:
            self._launcher.launch(flow_run)
        return RunHandle(flow_run_id=flow_run.id, created=created)

    async def resolve(self, alert: ResolvedAlert) -> list[UUID]:
        """Record the resolution, then cancel the episode's runs that have not started acting."""
        resolution = AlertResolution(
            alertname=alert.alertname,
            fingerprint=alert.alert_fingerprint,
            starts_at=alert.alert_starts_at,
            ends_at=alert.ends_at,
        )
        episode = episode_tag(alert.alert_fingerprint, alert.alert_starts_at)
        waiting = FlowRunFilter(
            tags=FlowRunFilterTags(all_=[episode]),
            state=FlowRunFilterState(type=FlowRunFilterStateType(any_=sorted(WAITING_STATES))),
        )
        cancelled: list[UUID] = []
        async with self._available(f"resolve {alert.alertname}") as client:
            await record_resolution(client, resolution)
            for run in await client.read_flow_runs(flow_run_filter=waiting):
                if await _cancel(client, run.id, resolved_message(alert)):
                    cancelled.append(run.id)
        return cancelled

    async def is_alert_firing(self, fingerprint: str, starts_at: datetime) -> bool:
        """Whether the receiver's record still has the episode firing (no resolution recorded)."""
        async with self._available("read the alert record") as client:
            return await is_alert_firing(fingerprint, starts_at, client=client)

    async def check_ready(self) -> None:
        """Raise HandoffUnavailableError unless the Prefect API answers its health check."""
        async with self._available("check health", seconds=self._ready_timeout) as client:
            response = await client.request("GET", "/health")
        if response.json() is not True:
            raise HandoffUnavailableError(f"Prefect API is not healthy: {response.text[:200]}")

    async def aclose(self) -> None:
        """Close the HTTP client (a later call opens a new one)."""
        client, self._client = self._client, None
        if client is not None:
            await client.__aexit__(None, None, None)

    async def _open_client(self) -> PrefectClient:
        async with self._client_lock:
            if self._client is None:
                api_url = self._api_url or PREFECT_API_URL.value()
                if not api_url:
                    raise HandoffUnavailableError("no Prefect API configured (PREFECT_API_URL)")
                client = PrefectClient(
                    api_url,
                    api_key=PREFECT_API_KEY.value(),
                    auth_string=PREFECT_API_AUTH_STRING.value(),
                )
                self._client = await client.__aenter__()
            return self._client

    @contextlib.asynccontextmanager
    async def _available(
        self, doing: str, *, seconds: float | None = None
    ) -> AsyncIterator[PrefectClient]:
        """Translate an unreachable, failing (5xx) or slow Prefect API into HandoffUnavailable."""
        try:
            async with asyncio.timeout(self._timeout if seconds is None else seconds):
                yield await self._open_client()
        except TimeoutError as exc:
            raise HandoffUnavailableError(f"Prefect API too slow to {doing}") from exc
        except httpx.HTTPStatusError as exc:
            if exc.response.status_code < 500:
                raise
            raise HandoffUnavailableError(
                f"Prefect API failed to {doing}: {exc.response.status_code}"
            ) from exc
        except httpx.HTTPError as exc:
            raise HandoffUnavailableError(f"Prefect API unreachable to {doing}: {exc!r}") from exc


async def _cancel(client: PrefectClient, flow_run_id: UUID, message: str) -> bool:
    try:
        state = await propose_state(client, Cancelled(message=message), flow_run_id=flow_run_id)
    except Abort:
        logger.info("run %s was not cancelled: it moved on meanwhile", flow_run_id)
        return False
    return state.is_cancelled()
