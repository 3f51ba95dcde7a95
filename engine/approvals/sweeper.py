"""Outstanding approvals, from the engine's side: the timeout sweeper and the alert record check.

A flow waiting at its approval gate is Suspended in Prefect, with nothing running anywhere. The
sweeper, started by the engine beside the executor, looks at our deployments' Paused runs every
few seconds and answers for the humans who did not: past the request's deadline it submits a
``timed_out`` rejection (the default outcome), and once the alert that started the run resolved
(per the receiver's record) it withdraws the request. Either answer goes through Prefect's own
resume API, as the UI's form does, so the flow re-runs, sees it, and ends as
``approval_timed_out`` or ``alert_resolved`` with its report. Nothing is lost when the engine
restarts: the requests and their deadlines live with the runs in Prefect.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import httpx
from prefect.client.orchestration import PrefectClient, SyncPrefectClient, get_client
from prefect.client.schemas.filters import (
    FlowRunFilter,
    FlowRunFilterDeploymentId,
    FlowRunFilterExpectedStartTime,
    FlowRunFilterState,
    FlowRunFilterStateType,
    FlowRunFilterTags,
)
from prefect.client.schemas.objects import FlowRun, StateType
from prefect.client.schemas.responses import SetStateStatus

from engine.alert_record import (
    is_alert_firing,
    is_alert_firing_sync,
    resolution_variable_name,
)
from flows.approval import ApprovalRequest, read_request, timed_out_input, withdrawn_input
from flows.runtime import AlertRef, AlertStatus

logger = logging.getLogger(__name__)

SWEEP_BATCH = 200
FINGERPRINT_LABEL = "alert.fingerprint"
STARTS_LABEL = "alert.starts_at"
"""Labels the dispatcher keeps on a run: the identity of the alert episode it was started for."""


RECENT_ALERT_RUNS = timedelta(minutes=15)
"""How far back `ReceiverRecordChecker.count_firing` looks for runs of other alerts."""
COUNT_BATCH = 200


def firing_episodes(runs: Iterable[FlowRun], *, excluding: str | None) -> dict[str, str]:
    """The alert episodes `runs` were started for: resolution record name -> fingerprint.

    Only runs the dispatcher created count (they carry the alert's identity as labels); the
    episode of the fingerprint `excluding` is left out.
    """
    episodes: dict[str, str] = {}
    for run in runs:
        fingerprint, starts_at = run.labels.get(FINGERPRINT_LABEL), run.labels.get(STARTS_LABEL)
        if not isinstance(fingerprint, str) or not isinstance(starts_at, str):
            continue
        if fingerprint == excluding:
            continue
        name = resolution_variable_name(fingerprint, datetime.fromisoformat(starts_at))
        episodes[name] = fingerprint
    return episodes


class ReceiverRecordChecker:
    """The flows' `AlertChecker` over the receiver's record of resolved alert episodes."""

    def __init__(
        self,
        deployment_ids: Iterable[UUID] = (),
        *,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        """Count runs of `deployment_ids` (all runs tagged with an alert, when none given)."""
        self._deployment_ids = list(deployment_ids)
        self._now = now

    def count_firing(self, alertname: str, *, excluding: str | None = None) -> int | None:
        """Alerts of that name the receiver started runs for recently and saw no resolution of.

        Reads the runs tagged ``alert:<alertname>`` expected to start in the last 15 minutes,
        then the resolution records of their episodes: two calls to Prefect's API, however
        many Services there are. None when Prefect's API cannot be read (unknown, not zero).
        """
        runs_filter = FlowRunFilter(
            tags=FlowRunFilterTags(all_=[f"alert:{alertname}"]),
            expected_start_time=FlowRunFilterExpectedStartTime(
                after_=self._now() - RECENT_ALERT_RUNS
            ),
            deployment_id=FlowRunFilterDeploymentId(any_=self._deployment_ids)
            if self._deployment_ids
            else None,
        )
        client: SyncPrefectClient
        try:
            with get_client(sync_client=True) as client:
                runs = client.read_flow_runs(flow_run_filter=runs_filter, limit=COUNT_BATCH)
                episodes = firing_episodes(runs, excluding=excluding)
                if not episodes:
                    return 0
                filter_body = {"variables": {"name": {"any_": sorted(episodes)}}}
                response = client.request("POST", "/variables/filter", json=filter_body)
                response.raise_for_status()
        except httpx.HTTPError as error:
            logger.warning("could not count the %s alerts firing: %r", alertname, error)
            return None
        resolved = {variable["name"] for variable in response.json()}
        return len({fp for name, fp in episodes.items() if name not in resolved})

    def status(self, alert: AlertRef) -> AlertStatus:
        """RESOLVED once the receiver recorded the episode's resolution, else FIRING.

        Raises:
            httpx.HTTPError: The record (Prefect's API) cannot be read; the flow must not act.
        """
        if alert.starts_at is None:
            return AlertStatus.UNKNOWN
        firing = is_alert_firing_sync(alert.fingerprint, alert.starts_at)
        return AlertStatus.FIRING if firing else AlertStatus.RESOLVED


@dataclass(frozen=True, slots=True)
class SweepAnswer:
    """What the engine answers for a waiting request, and why."""

    run_input: dict[str, Any]
    why: str


def decide_for_waiting(
    request: ApprovalRequest, *, now: datetime, alert_firing: bool | None
) -> SweepAnswer | None:
    """Answer a waiting request when nobody will: its deadline passed, or its alert resolved.

    Args:
        request: The request the run keeps.
        now: The current time.
        alert_firing: Whether the request's alert still fires; None when it has none.

    Returns:
        The answer to submit, or None to keep waiting.
    """
    if now >= request.deadline:
        return SweepAnswer(timed_out_input(request), "approval timed out")
    if alert_firing is False:
        name = request.alertname or request.alert_fingerprint
        return SweepAnswer(
            withdrawn_input(f"alert {name} resolved while waiting; request withdrawn"),
            "alert resolved",
        )
    return None


class ApprovalSweeper:
    """Answers our runs' overdue approvals (reject, timed out) and withdraws resolved ones."""

    def __init__(
        self,
        deployment_ids: Iterable[UUID],
        *,
        interval: float = 5.0,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        """Sweep the Paused runs of `deployment_ids` every `interval` seconds."""
        self._deployment_ids = list(deployment_ids)
        self._interval = interval
        self._now = now
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Start sweeping in the background (in the caller's event loop)."""
        self._task = asyncio.get_running_loop().create_task(self._sweep_forever())

    async def stop(self) -> None:
        """Stop sweeping."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def sweep_once(self) -> list[UUID]:
        """Answer what is due now; returns the runs resumed."""
        resumed: list[UUID] = []
        async with get_client() as client:
            for run in await self._paused_runs(client):
                if await self._answer_if_due(client, run):
                    resumed.append(run.id)
        return resumed

    async def _paused_runs(self, client: PrefectClient) -> list[FlowRun]:
        if not self._deployment_ids:
            return []
        paused = FlowRunFilter(
            deployment_id=FlowRunFilterDeploymentId(any_=self._deployment_ids),
            state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.PAUSED])),
        )
        return await client.read_flow_runs(flow_run_filter=paused, limit=SWEEP_BATCH)

    async def _answer_if_due(self, client: PrefectClient, run: FlowRun) -> bool:
        gate = run.state.state_details.pause_key if run.state else None
        if not gate:
            return False
        request = await read_request(client, run.id, gate)
        if request is None:
            return False  # paused by hand or by another mechanism: not ours to answer
        firing = None
        if request.alert_fingerprint and request.alert_starts_at:
            firing = await is_alert_firing(
                request.alert_fingerprint, request.alert_starts_at, client=client
            )
        answer = decide_for_waiting(request, now=self._now(), alert_firing=firing)
        if answer is None:
            return False
        result = await client.resume_flow_run(run.id, run_input=answer.run_input)
        if result.status is not SetStateStatus.ACCEPT:
            logger.warning("could not answer flow run %s (%s): %s", run.id, answer.why, result)
            return False
        logger.info("answered flow run %s: %s", run.id, answer.why)
        return True

    async def _sweep_forever(self) -> None:
        while True:
            try:
                await self.sweep_once()
            except httpx.HTTPError as error:
                logger.warning("sweeping outstanding approvals failed (retrying): %r", error)
            await asyncio.sleep(self._interval)
