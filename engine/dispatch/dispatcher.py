"""Hands matched alerts to Prefect as flow runs of their deployments, once per idempotency key.

Where the catalog's limits are enforced:
- cooldown per target, here: a run with a cooldown key is tagged ``cooldown:<key>``; before
  creating one, the dispatcher reads that tag's recent runs and, when one counts (see
  `engine.dispatch.cooldown`), creates nothing and returns it with ``suppressed`` set.
  Requests are handled in batches, one batch at a time (`engine.dispatch.group_commit`,
  `engine.dispatch.batch_plan`), so two episodes of one key arriving together create one run;
  two replicas submitting different
  episodes of one key in the same few milliseconds can still both create (the check and the
  create are two calls); the executor then still runs them one after the other when they share a
  concurrency key (as the shipped catalog's runbooks do).
- concurrency per target, in the executor (`engine.execution.executor`): runs are tagged
  ``target:<concurrency_key>`` and none is claimed while another run with its tag is active.

What a batch costs is in `engine.dispatch.batch`: a few calls whatever its size, so a storm of
alerts becomes a few large writes instead of many small ones contending for SQLite's single
writer. Redeliveries of keys this process has seen persisted cost no call at all
(`engine.dispatch.known_runs`).

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
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import datetime
from uuid import UUID

import httpx
from prefect.client.orchestration import PrefectClient
from prefect.client.schemas.filters import (
    FlowRunFilter,
    FlowRunFilterState,
    FlowRunFilterStateType,
    FlowRunFilterTags,
)
from prefect.client.schemas.objects import StateType
from prefect.exceptions import Abort
from prefect.settings import PREFECT_API_AUTH_STRING, PREFECT_API_KEY, PREFECT_API_URL
from prefect.states import Cancelled
from prefect.utilities.engine import propose_state

from engine.dispatch.alert_record import (
    AlertResolution,
    is_alert_firing,
    record_resolution,
)
from engine.dispatch.batch import submit_batch
from engine.dispatch.group_commit import Batcher
from engine.dispatch.incidents import OpenIncidents
from engine.dispatch.known_runs import KnownRuns
from engine.dispatch.parameter_check import ParameterCheck
from engine.handoff import (
    HandoffUnavailableError,
    ResolvedAlert,
    RunHandle,
    RunLauncher,
    RunRejectedError,
    RunRequest,
)
from flows.run_identity import as_utc, episode_tag

logger = logging.getLogger(__name__)

#: States of a run that has not started acting yet: a resolution cancels these. Paused runs wait
#: at an approval gate: engine.approvals.sweeper withdraws their request instead, so the flow itself
#: ends as alert_resolved and writes its report.
WAITING_STATES = frozenset({StateType.SCHEDULED, StateType.PENDING})


class UnknownDeploymentError(RunRejectedError):
    """A request names a deployment the engine did not register (a catalog/config error)."""


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
        known_runs: KnownRuns | None = None,
        parameter_checks: Mapping[str, ParameterCheck] | None = None,
        cluster: str | None = None,
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
            known_runs: Keys seen persisted, answered without a call; default: a new one.
            parameter_checks: Parameter checks by deployment name: runs of these are checked
                here (`engine.dispatch.parameter_check`) rather than by Prefect's server.
            cluster: The cluster's key: alerts join its open incidents instead of starting
                runs (`engine.dispatch.incidents`); None: every alert starts its own run.
        """
        self._deployments = dict(deployments)
        self._launcher = launcher
        self._api_url = api_url
        self._timeout = timeout
        self._ready_timeout = ready_timeout
        self._client: PrefectClient | None = None
        self._client_lock = asyncio.Lock()
        # One batch in flight, and our own writes one at a time: SQLite takes a single writer,
        # and a second one waiting on its lock costs a 503 and the client's 2 s back-off.
        self._batcher: Batcher[RunRequest, RunHandle] = Batcher(self._submit_batch)
        self._writes = asyncio.Lock()
        self._known = known_runs or KnownRuns()
        self._checks = dict(parameter_checks or {})
        self._incidents = OpenIncidents(cluster) if cluster is not None else None

    @property
    def batches(self) -> int:
        """How many batches this dispatcher has sent to Prefect so far."""
        return self._batcher.batches

    async def submit(self, request: RunRequest) -> RunHandle:
        """Create (or find, for the same idempotency key) the flow run for a matched alert.

        When a recent run of the request's cooldown key holds it back, creates nothing and
        returns that run with ``suppressed`` saying why. A key this process has already seen
        persisted is answered at once; the others join the next batch
        (see `engine.dispatch.group_commit`).
        """
        if request.deployment not in self._deployments:
            raise UnknownDeploymentError(f"deployment {request.deployment!r} is not registered")
        check = self._checks.get(request.deployment)
        problems = check.problems(request.parameters) if check is not None else []
        if problems:
            raise RunRejectedError(
                f"Prefect would refuse a run of {request.deployment}: {'; '.join(problems)}"
            )
        known = self._known.find(request.idempotency_key)
        if known is not None:
            return RunHandle(flow_run_id=known, created=False)
        return await self._batcher.submit(request)

    async def _submit_batch(
        self, requests: Sequence[RunRequest]
    ) -> list[RunHandle | BaseException]:
        """Hand one batch to Prefect (`engine.dispatch.batch`), remember and start its runs."""
        deadline = time.monotonic() + self._timeout
        async with self._available(f"hand off {len(requests)} alert(s)") as client:
            result = await submit_batch(
                client,
                requests,
                deployments=self._deployments,
                writes=self._writes,
                deadline=deadline,
                validated=self._checks.keys(),
                incidents=self._incidents,
            )
        for request, handle in zip(requests, result.handles, strict=True):
            if not isinstance(handle, RunHandle):
                continue
            if handle.suppressed or handle.joined:
                why = handle.suppressed or handle.joined
                logger.info("no run created for %s: %s", request.runbook, why)
            else:
                self._known.remember(request.idempotency_key, handle.flow_run_id)
        if self._launcher is not None:
            for run in result.new_runs:
                if run.state_type == StateType.SCHEDULED:
                    self._launcher.launch(run)
        return result.handles

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
        async with self._available(f"resolve {alert.alertname}") as client, self._writes:
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
        """Stop batching, close the HTTP client (a later call opens a new one)."""
        await self._batcher.aclose()
        if self._incidents is not None:
            await self._incidents.aclose()
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
        """Translate an unreachable, failing (5xx) or slow Prefect API into HandoffUnavailable.

        The errors say what is unavailable, never what Prefect answered: its body may quote SQL
        and the alert data in it. Prefect answers 503 when a retry may pass (its database is
        locked or out of reach): that is a busy API.
        """
        try:
            async with asyncio.timeout(self._timeout if seconds is None else seconds):
                yield await self._open_client()
        except TimeoutError as exc:
            raise HandoffUnavailableError(f"the Prefect API is too slow to {doing}") from exc
        except httpx.HTTPStatusError as exc:
            status = exc.response.status_code
            if status < 500:
                raise
            state = "is busy (503)" if status == 503 else f"failed ({status})"
            raise HandoffUnavailableError(f"the Prefect API {state} and could not {doing}") from exc
        except httpx.HTTPError as exc:
            # The transport's own words (refused, reset, unknown name), not a response's.
            why = f"{type(exc).__name__}: {exc}".rstrip(": ")
            raise HandoffUnavailableError(
                f"the Prefect API is unreachable to {doing}: {why}"
            ) from exc


async def _cancel(client: PrefectClient, flow_run_id: UUID, message: str) -> bool:
    try:
        state = await propose_state(client, Cancelled(message=message), flow_run_id=flow_run_id)
    except Abort:
        logger.info("run %s was not cancelled: it moved on meanwhile", flow_run_id)
        return False
    return state.is_cancelled()


def resolved_message(alert: ResolvedAlert) -> str:
    """The state message of a run cancelled because its alert resolved."""
    return f"Alert {alert.alertname} resolved at {as_utc(alert.ends_at).isoformat()}; not needed."
