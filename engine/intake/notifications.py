"""Handing a notification's alerts over to the dispatcher: submit, resolve, count and log."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal
from uuid import UUID

from prometheus_client import Counter

from engine.handoff import (
    HandoffUnavailableError,
    ResolvedAlert,
    RunDispatcher,
    RunHandle,
    RunRejectedError,
    RunRequest,
)
from engine.intake.alert_plan import AlertMatcher, Unmatched, plan_alert
from engine.intake.metrics import ReceiverMetrics
from integrations.alertmanager import WebhookAlert, WebhookNotification

Outcome = Literal["created", "duplicate", "cooldown", "joined", "refused", "unmatched", "resolved"]


def alert_fields(fingerprint: str, *, flow_run_id: object = None, **more: object) -> dict[str, Any]:
    """The ``extra`` of a log line about an alert: always its fingerprint and flow run id."""
    return {
        "fingerprint": fingerprint,
        "flow_run_id": None if flow_run_id is None else str(flow_run_id),
        **more,
    }


@dataclass(frozen=True)
class AlertOutcome:
    """What became of one alert (or of one runbook an alert matched).

    Attributes:
        fingerprint: The alert's fingerprint.
        alertname: The alert's name.
        outcome: ``created``/``duplicate`` (a run), ``cooldown`` (no run: a recent run on
            the same target holds it back), ``joined`` (no run: the open incident of run
            ``flow_run_id`` answers for it), ``refused`` (no run: the run store refused its
            parameters, a catalog error), ``unmatched``, or ``resolved``.
        runbook: The runbook, for ``created``, ``duplicate``, ``cooldown``, ``joined`` and
            ``refused``.
        flow_run_id: The run created, found, holding it back, answering for it, or told that
            its alert resolved.
        detail: Why an alert is unmatched, held back by a cooldown, joined or refused; empty
            otherwise.
    """

    fingerprint: str
    alertname: str
    outcome: Outcome
    runbook: str | None = None
    flow_run_id: UUID | None = None
    detail: str = ""


class NotificationHandler:
    """Matches every alert of a notification on its own labels and hands the matches off.

    Args:
        dispatcher: Creates and stops flow runs.
        matcher: The catalog's matcher.
        metrics: Where to count.
        clock: Epoch seconds; times handoffs and dates resolves sent without ``endsAt``.
        logger: Where to log, one line per alert event.
        timeout_seconds: Longest a whole notification may take to hand off; past it the
            receiver answers 503 so Alertmanager retries rather than giving up on a hung call.
        max_concurrency: Resolves in flight at once, so a large resolved group does not flood
            the run store. Submits need no such bound: the dispatcher sends them in batches,
            one batch at a time.
    """

    def __init__(
        self,
        *,
        dispatcher: RunDispatcher,
        matcher: AlertMatcher,
        metrics: ReceiverMetrics,
        clock: Callable[[], float],
        logger: logging.Logger,
        timeout_seconds: float = 10.0,
        max_concurrency: int = 8,
    ) -> None:
        self._dispatcher = dispatcher
        self._matcher = matcher
        self._metrics = metrics
        self._clock = clock
        self._logger = logger
        self._timeout = timeout_seconds
        self._slots = asyncio.Semaphore(max_concurrency)

    async def handle(self, notification: WebhookNotification) -> list[AlertOutcome]:
        """Hand every alert off; return only once all matched alerts are persisted.

        Raises:
            HandoffUnavailableError: Any submit or resolve could not be persisted (or the
                whole took longer than the timeout); the alerts that were handed off stay so,
                and the retry finds them by their idempotency keys.
        """
        self._count(notification)
        now = datetime.fromtimestamp(self._clock(), UTC)
        plans = [plan_alert(alert, self._matcher, now=now) for alert in notification.alerts]
        calls: list[Awaitable[list[AlertOutcome]]] = []
        outcomes: list[AlertOutcome] = []
        for plan in plans:
            calls += [self._submit(request) for request in plan.requests]
            if plan.resolve is not None:
                calls.append(self._resolve(plan.resolve))
            if plan.unmatched is not None:
                outcomes.append(self._unmatched(plan.alert, plan.unmatched))
        try:
            async with asyncio.timeout(self._timeout):
                results = await asyncio.gather(*calls, return_exceptions=True)
        except TimeoutError:
            raise HandoffUnavailableError(
                f"handoff took longer than {self._timeout:g}s; Alertmanager will retry"
            ) from None
        failures = [result for result in results if isinstance(result, BaseException)]
        if failures:
            raise failures[0]
        for result in results:
            if not isinstance(result, BaseException):
                outcomes += result
        return outcomes

    def _count(self, notification: WebhookNotification) -> None:
        self._metrics.notifications.labels(status=notification.status).inc()
        for alert in notification.alerts:
            self._metrics.alerts.labels(status=alert.status, alertname=alert.alertname).inc()
            self._logger.info(
                "alert received",
                extra=alert_fields(
                    alert.fingerprint,
                    alertname=alert.alertname,
                    status=alert.status,
                    labels=alert.labels,
                    starts_at=alert.starts_at.isoformat(),
                    group_key=notification.group_key,
                ),
            )

    async def _submit(self, request: RunRequest) -> list[AlertOutcome]:
        started = self._clock()
        try:
            handle = await self._dispatcher.submit(request)
        except HandoffUnavailableError as error:
            self._metrics.handoff_unavailable.labels(operation="submit").inc()
            self._logger.warning(
                "run store unavailable; Alertmanager will retry",
                extra=alert_fields(
                    request.alert_fingerprint, runbook=request.runbook, error=str(error)
                ),
            )
            raise
        except RunRejectedError as error:
            # Answered 200 all the same: Alertmanager's retries cannot fix the catalog, and the
            # group's other alerts are handed off. The error log and counter make it loud.
            return [self._refused(request, error)]
        finally:
            self._metrics.handoff_seconds.labels(operation="submit").observe(
                max(0.0, self._clock() - started)
            )
        outcome, counter, message = self._classify(handle)
        counter.labels(runbook=request.runbook).inc()
        self._logger.info(
            message,
            extra=alert_fields(
                request.alert_fingerprint,
                flow_run_id=handle.flow_run_id,
                runbook=request.runbook,
                deployment=request.deployment,
                idempotency_key=request.idempotency_key,
                suppressed=handle.suppressed,
                joined=handle.joined,
            ),
        )
        return [
            AlertOutcome(
                fingerprint=request.alert_fingerprint,
                alertname=request.alertname,
                outcome=outcome,
                runbook=request.runbook,
                flow_run_id=handle.flow_run_id,
                detail=handle.suppressed or handle.joined or "",
            )
        ]

    def _refused(self, request: RunRequest, error: RunRejectedError) -> AlertOutcome:
        self._metrics.runs_refused.labels(runbook=request.runbook).inc()
        self._logger.error(
            "run refused; fix the runbook's parameters (runbooks validate)",
            extra=alert_fields(
                request.alert_fingerprint,
                runbook=request.runbook,
                deployment=request.deployment,
                error=str(error),
            ),
        )
        return AlertOutcome(
            fingerprint=request.alert_fingerprint,
            alertname=request.alertname,
            outcome="refused",
            runbook=request.runbook,
            detail=str(error),
        )

    def _classify(self, handle: RunHandle) -> tuple[Outcome, Counter, str]:
        """The outcome of a submit, the counter it adds to and the log line it gets."""
        if handle.suppressed:
            return "cooldown", self._metrics.cooldown_suppressed, "no run: target in cooldown"
        if handle.joined:
            return "joined", self._metrics.incident_joins, "no run: joined an open incident"
        if handle.created:
            return "created", self._metrics.runs_created, "run created"
        return (
            "duplicate",
            self._metrics.duplicates_suppressed,
            "run already exists (duplicate delivery)",
        )

    async def _resolve(self, resolved: ResolvedAlert) -> list[AlertOutcome]:
        async with self._slots:
            started = self._clock()
            try:
                run_ids = await self._dispatcher.resolve(resolved)
            except HandoffUnavailableError as error:
                self._metrics.handoff_unavailable.labels(operation="resolve").inc()
                self._logger.warning(
                    "run store unavailable; Alertmanager will retry the resolve",
                    extra=alert_fields(resolved.alert_fingerprint, error=str(error)),
                )
                raise
            finally:
                self._metrics.handoff_seconds.labels(operation="resolve").observe(
                    max(0.0, self._clock() - started)
                )
        self._metrics.resolved_runs.inc(len(run_ids))
        if not run_ids:
            self._logger.info(
                "alert resolved; no run was waiting on it",
                extra=alert_fields(resolved.alert_fingerprint),
            )
            return [_resolved_outcome(resolved, None)]
        for run_id in run_ids:
            self._logger.info(
                "alert resolved; run told",
                extra=alert_fields(resolved.alert_fingerprint, flow_run_id=run_id),
            )
        return [_resolved_outcome(resolved, run_id) for run_id in run_ids]

    def _unmatched(self, alert: WebhookAlert, unmatched: Unmatched) -> AlertOutcome:
        self._metrics.unmatched_alerts.labels(reason=unmatched.reason).inc()
        self._logger.info(
            "alert starts no runbook",
            extra=alert_fields(
                alert.fingerprint,
                alertname=alert.alertname,
                reason=str(unmatched.reason),
                detail=unmatched.detail,
            ),
        )
        return AlertOutcome(
            fingerprint=alert.fingerprint,
            alertname=alert.alertname,
            outcome="unmatched",
            detail=unmatched.detail,
        )


def _resolved_outcome(resolved: ResolvedAlert, run_id: UUID | None) -> AlertOutcome:
    return AlertOutcome(
        fingerprint=resolved.alert_fingerprint,
        alertname=resolved.alertname,
        outcome="resolved",
        flow_run_id=run_id,
    )
