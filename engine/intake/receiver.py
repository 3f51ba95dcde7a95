"""The HTTP front door: Alertmanager's webhook, health, readiness and metrics (Starlette)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from engine.handoff import HandoffUnavailableError, RunDispatcher
from engine.intake.alert_plan import AlertMatcher
from engine.intake.auth import WebhookAuth, is_authorized
from engine.intake.metrics import ReceiverMetrics
from engine.intake.notifications import AlertOutcome, NotificationHandler
from engine.intake.rejection_log import RejectionLogGate
from engine.intake.request_body import BodyTooLargeError, read_limited_body
from integrations.alertmanager import (
    PayloadError,
    PayloadProblem,
    WebhookNotification,
    decode_notification,
)

ReadinessCheck = Callable[[], Awaitable[None]]
"""An async check that returns when a dependency answers and raises `NotReadyError` if not."""

MIB = 1024 * 1024
#: The most of an unavailable dependency's reason a response quotes.
REASON_LIMIT = 200


class NotReadyError(Exception):
    """A dependency the engine needs (the Kubernetes API, typically) does not answer."""


@dataclass(frozen=True)
class ReceiverLimits:
    """Bounds on what one request may cost.

    Attributes:
        max_body_bytes: Larger bodies are refused with 413 while they are being read.
        handoff_timeout_seconds: Longest a notification's handoff may take before 503.
        readiness_timeout_seconds: Longest each readiness check may take.
        max_concurrent_resolves: Resolves in flight at once (submits go in batches).
        rejection_log_window_seconds: A rejected group is logged again only after this long.
    """

    max_body_bytes: int = MIB
    handoff_timeout_seconds: float = 10.0
    readiness_timeout_seconds: float = 3.0
    max_concurrent_resolves: int = 8
    rejection_log_window_seconds: float = 3600.0


def build_receiver(
    *,
    dispatcher: RunDispatcher,
    matcher: AlertMatcher,
    auth: WebhookAuth,
    registry: CollectorRegistry,
    kubernetes_check: ReadinessCheck,
    clock: Callable[[], float] = time.time,
    limits: ReceiverLimits | None = None,
    logger: logging.Logger | None = None,
) -> Starlette:
    """Build the receiver's ASGI app.

    Routes: ``POST /alertmanager`` (the webhook), ``GET /healthz``, ``GET /readyz``,
    ``GET /metrics``.

    Args:
        dispatcher: Hands matched alerts to flow runs (Prefect in production).
        matcher: Matches one alert's labels and status to runbooks (see `catalog_matcher`).
        auth: The credentials the webhook accepts.
        registry: Where the receiver's metrics are registered; ``/metrics`` exposes all of it.
        kubernetes_check: Readiness check of the Kubernetes API.
        clock: Epoch seconds, for latencies, the rejection log window and resolve times.
        limits: Request bounds; the defaults suit Alertmanager.
        logger: Where to log; defaults to ``engine.intake.receiver``.
    """
    limits = limits or ReceiverLimits()
    log = logger or logging.getLogger("engine.intake.receiver")
    metrics = ReceiverMetrics(registry)
    gate = RejectionLogGate(clock, window_seconds=limits.rejection_log_window_seconds)
    handler = NotificationHandler(
        dispatcher=dispatcher,
        matcher=matcher,
        metrics=metrics,
        clock=clock,
        logger=log,
        timeout_seconds=limits.handoff_timeout_seconds,
        max_concurrency=limits.max_concurrent_resolves,
    )

    def reject(
        status: int, reason: str, *, group: str, error: str, field: str | None, fix: str
    ) -> JSONResponse:
        metrics.rejected_requests.labels(reason=reason).inc()
        if gate.should_log(group, reason):
            log.warning(
                "webhook request rejected (logged once per group and reason)",
                extra={"reason": reason, "group": group, "error": error, "field": field},
            )
        headers = {"WWW-Authenticate": auth.challenge} if status == 401 else None
        body = {"error": error, "field": field, "fix": fix}
        return JSONResponse(body, status_code=status, headers=headers)

    async def alertmanager(request: Request) -> Response:
        client = f"client {request.client.host if request.client else 'unknown'}"
        if not is_authorized(request.headers.get("authorization"), auth):
            return reject(
                401,
                "unauthorized",
                group=client,
                error="missing or wrong credentials",
                field=None,
                fix="configure http_config.authorization (bearer) or basic_auth in Alertmanager",
            )
        try:
            body = await read_limited_body(request, limits.max_body_bytes)
        except BodyTooLargeError as error:
            return reject(
                413,
                "too_large",
                group=client,
                error=str(error),
                field=None,
                fix="lower max_alerts in the webhook_config, or split the route's groups",
            )
        try:
            notification = decode_notification(body)
        except PayloadError as error:
            return reject(
                400 if error.problem is PayloadProblem.MALFORMED_JSON else 422,
                str(error.problem),
                group=error.group_key or client,
                error=error.message,
                field=error.field,
                fix=error.fix,
            )
        note_truncation(notification)
        try:
            outcomes = await handler.handle(notification)
        except HandoffUnavailableError as error:
            return JSONResponse(
                {
                    "error": f"run store unavailable: {unavailable_reason(error)}",
                    "field": None,
                    "fix": "none needed: Alertmanager retries, and the retry creates each run once",
                },
                status_code=503,
            )
        return JSONResponse({"status": "accepted", "alerts": [render(o) for o in outcomes]})

    def note_truncation(notification: WebhookNotification) -> None:
        if notification.truncated_alerts <= 0:
            return
        metrics.truncated_alerts.inc(notification.truncated_alerts)
        if gate.should_log(notification.group_key, "truncated"):
            log.warning(
                "Alertmanager left alerts out of a notification; set max_alerts: 0",
                extra={
                    "group": notification.group_key,
                    "truncated_alerts": notification.truncated_alerts,
                },
            )

    async def healthz(_: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(_: Request) -> Response:
        checks = {"run_store": dispatcher.check_ready, "kubernetes": kubernetes_check}
        results = await asyncio.gather(
            *(probe(check, limits.readiness_timeout_seconds) for check in checks.values())
        )
        report = dict(zip(checks, results, strict=True))
        ready = all(result == "ok" for result in results)
        return JSONResponse({"ready": ready, "checks": report}, status_code=200 if ready else 503)

    async def metrics_endpoint(_: Request) -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return Starlette(
        routes=[
            Route("/alertmanager", alertmanager, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", readyz, methods=["GET"]),
            Route("/metrics", metrics_endpoint, methods=["GET"]),
        ]
    )


async def probe(check: ReadinessCheck, timeout_seconds: float) -> str:
    """Run one readiness check: ``"ok"``, or why the dependency is not ready."""
    try:
        async with asyncio.timeout(timeout_seconds):
            await check()
    except (HandoffUnavailableError, NotReadyError) as error:
        return f"not ready: {unavailable_reason(error)}"
    except TimeoutError:
        return f"not ready: no answer within {timeout_seconds:g}s"
    return "ok"


def unavailable_reason(error: Exception) -> str:
    """Why a dependency is unavailable, as a response may quote it: one line, before any ``[``.

    The Prefect dispatcher already words its errors to be quoted (it turns Prefect's own into a
    short reason); this bounds what any dispatcher's error puts in a body all the same: no
    second line (a traceback), nothing from the first ``[`` on (SQLAlchemy's ``[SQL: ...]`` and
    ``[parameters: ...]``, which carry alert data), at most `REASON_LIMIT` characters.

    Args:
        error: Why the run store (or another dependency) is unavailable.

    Returns:
        The reason to quote; "no reason given" when nothing is left of it.
    """
    first = str(error).split("\n", 1)[0].split("[", 1)[0]
    reason = " ".join(first.split()).rstrip(" :;,(") or "no reason given"
    return reason if len(reason) <= REASON_LIMIT else reason[: REASON_LIMIT - 3] + "..."


def render(outcome: AlertOutcome) -> dict[str, Any]:
    """One entry of the webhook's response body."""
    return {
        "fingerprint": outcome.fingerprint,
        "alertname": outcome.alertname,
        "outcome": outcome.outcome,
        "runbook": outcome.runbook,
        "flow_run_id": None if outcome.flow_run_id is None else str(outcome.flow_run_id),
        "detail": outcome.detail,
    }
