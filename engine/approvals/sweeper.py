"""Outstanding approvals, from the engine's side: the sweeper answers those nobody will.

A flow waiting at its approval gate is Suspended in Prefect, with nothing running anywhere. The
sweeper, started by the engine beside the executor, looks at our deployments' Paused runs every
few seconds and answers for the humans who did not: past the request's deadline it submits a
``timed_out`` rejection (the default outcome), and once the alert that started the run resolved
(per the receiver's record) it withdraws the request. Either answer goes through Prefect's own
resume API, as the UI's form does, so the flow re-runs, sees it, and ends as
``approval_timed_out`` or ``alert_resolved`` with its report. Nothing is lost when the engine
restarts: the requests and their deadlines live with the runs in Prefect.

Every replica sweeps, so two may answer the same request. Prefect takes one answer: the other is
refused, with ABORT (the run had left Paused when it looked) or 409 (both looked at once, and
the answer's input was already stored), and nothing of it is recorded. That refusal only means
somebody else answered: it is logged as such, and the sweep goes on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID

import httpx
from prefect.client.orchestration import PrefectClient, get_client
from prefect.client.schemas.filters import (
    FlowRunFilter,
    FlowRunFilterDeploymentId,
    FlowRunFilterState,
    FlowRunFilterStateType,
)
from prefect.client.schemas.objects import FlowRun, StateType

from engine.approvals.coverage import CoverageRefresher
from engine.approvals.resume import ResumeOutcome, resume_run
from engine.dispatch.alert_record import (
    is_alert_firing,
)
from flows.approval import ApprovalRequest
from flows.approval.form import EngineAnswer, timed_out, withdrawn
from flows.approval.store import read_request

logger = logging.getLogger(__name__)

SWEEP_BATCH = 200


@dataclass(frozen=True, slots=True)
class SweepAnswer:
    """What the engine answers for a waiting request, and why."""

    answer: EngineAnswer
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
        return SweepAnswer(timed_out(request, now=now), "approval timed out")
    if alert_firing is False:
        name = request.alertname or request.alert_fingerprint
        why = f"the alert {name} resolved while waiting"
        return SweepAnswer(withdrawn(request, why, now=now), "alert resolved")
    return None


class ApprovalSweeper:
    """Answers our runs' overdue approvals (reject, timed out) and withdraws resolved ones."""

    def __init__(
        self,
        deployment_ids: Iterable[UUID],
        *,
        interval: float = 5.0,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        coverage: CoverageRefresher | None = None,
    ) -> None:
        """Sweep the Paused runs of `deployment_ids` every `interval` seconds.

        ``coverage`` keeps incidents' requests current as alerts join them (see
        `engine.approvals.coverage`); without it, requests say what they said when made.
        """
        self._deployment_ids = list(deployment_ids)
        self._interval = interval
        self._now = now
        self._coverage = coverage
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
            paused = await self._paused_runs(client)
            if self._coverage is not None and paused:
                await self._coverage.read_incidents(client)
            for run in paused:
                if await self.answer_if_due(client, run):
                    resumed.append(run.id)
                elif self._coverage is not None:
                    await self._refresh(client, run)
        return resumed

    async def _refresh(self, client: PrefectClient, run: FlowRun) -> None:
        if self._coverage is None or run.state is None:
            return
        gate = run.state.state_details.pause_key
        request = await read_request(client, run.id, gate) if gate else None
        if request is not None:
            await self._coverage.refresh(client, run, request)

    async def _paused_runs(self, client: PrefectClient) -> list[FlowRun]:
        if not self._deployment_ids:
            return []
        paused = FlowRunFilter(
            deployment_id=FlowRunFilterDeploymentId(any_=self._deployment_ids),
            state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.PAUSED])),
        )
        return await client.read_flow_runs(flow_run_filter=paused, limit=SWEEP_BATCH)

    async def answer_if_due(self, client: PrefectClient, run: FlowRun) -> bool:
        """Answer ``run``'s request (as last read) if it is due; whether this sweeper answered."""
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
        if firing is False and self._coverage is not None:
            # An incident's request answers for other alerts too: withdrawn once none fires.
            firing = await self._coverage.others_firing(run)
        answer = decide_for_waiting(request, now=self._now(), alert_firing=firing)
        if answer is None:
            return False
        # The status tells what became of it (Prefect answers 200 either way); passing
        # refusals (form not saved yet, 503) are retried within a bound by resume_run.
        resumed = await resume_run(client, run.id, answer.answer.run_input())
        if resumed.outcome is ResumeOutcome.NOT_PAUSED:
            logger.info("flow run %s was answered elsewhere (%s)", run.id, resumed.reason)
            return False
        if resumed.outcome is not ResumeOutcome.ACCEPTED:
            logger.warning("could not answer flow run %s (%s): %s", run.id, answer.why, resumed)
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
