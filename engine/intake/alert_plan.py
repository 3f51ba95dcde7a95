"""Deciding what a received alert asks for: runs to start, runs to stop, or nothing (pure)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from engine.handoff import ResolvedAlert, RunRequest
from integrations.alertmanager import WebhookAlert
from runbooks import Catalog, Match, MatchResult, UnmatchedReason, match_alert

AlertMatcher = Callable[[Mapping[str, str], str], MatchResult]
"""Matches one alert's labels and status (``firing``/``resolved``) to runbooks."""


def catalog_matcher(catalog: Catalog) -> AlertMatcher:
    """The matcher of a loaded runbook catalog."""

    def match(labels: Mapping[str, str], status: str) -> MatchResult:
        return match_alert(catalog, labels, status)

    return match


def idempotency_key(runbook: str, fingerprint: str, starts_at: datetime) -> str:
    """The key that makes redelivery of an alert find its run instead of starting another.

    ``sha256("<runbook>\\n<fingerprint>\\n<startsAt>")`` in hex, where startsAt is rendered in
    UTC with microseconds (``2026-11-25T17:08:30.345340+00:00``). The fingerprint names the
    alert (its label set) and startsAt the episode: the same alert firing again after it
    resolved starts a new run, while Alertmanager's retries and repeats of one episode do not.
    Each runbook an alert matches gets its own key.
    """
    episode = starts_at.astimezone(UTC).isoformat(timespec="microseconds")
    return hashlib.sha256(f"{runbook}\n{fingerprint}\n{episode}".encode()).hexdigest()


@dataclass(frozen=True)
class Unmatched:
    """Why an alert starts nothing.

    Attributes:
        reason: The first reason, fit for a metric label.
        detail: Every runbook considered and why it did not start, for logs and the response.
    """

    reason: UnmatchedReason
    detail: str


@dataclass(frozen=True)
class AlertPlan:
    """What to do for one alert of a notification.

    Attributes:
        alert: The alert.
        requests: Runs to hand off, one per matched runbook.
        resolve: Set when the alert resolved and runbooks would have started for it firing.
        unmatched: Set when there is nothing at all to do.
    """

    alert: WebhookAlert
    requests: tuple[RunRequest, ...]
    resolve: ResolvedAlert | None
    unmatched: Unmatched | None


def plan_alert(alert: WebhookAlert, matcher: AlertMatcher, *, now: datetime) -> AlertPlan:
    """Decide what one alert asks for, from its own labels only.

    A firing alert starts every runbook it matches. A resolved alert starts the runbooks that
    handle resolved alerts, and stops the runs it started while firing.

    Args:
        alert: One alert of a notification.
        matcher: The catalog's matcher.
        now: The time a resolved alert ends at when Alertmanager sent no ``endsAt``.
    """
    result = matcher(alert.labels, alert.status)
    requests = tuple(build_run_request(match, alert) for match in result.matches)
    resolve: ResolvedAlert | None = None
    if alert.status == "resolved" and matcher(alert.labels, "firing").matched:
        resolve = ResolvedAlert(
            alert_fingerprint=alert.fingerprint,
            alert_starts_at=alert.starts_at,
            ends_at=alert.ends_at or now,
            alertname=alert.alertname,
        )
    unmatched: Unmatched | None = None
    if not requests and resolve is None:
        unmatched = Unmatched(result.unmatched_reasons[0], result.describe())
    return AlertPlan(alert=alert, requests=requests, resolve=resolve, unmatched=unmatched)


def build_run_request(match: Match, alert: WebhookAlert) -> RunRequest:
    """The run request for one runbook an alert matched."""
    return RunRequest(
        runbook=match.runbook,
        deployment=match.deployment,
        parameters={
            **match.parameters,
            # Every alert-started run gets its alert's identity (the catalog checks that the
            # flow accepts it): it re-checks the alert before acting and names it in its report.
            "alertname": alert.alertname,
            "alert_fingerprint": alert.fingerprint,
            "alert_starts_at": alert.starts_at.isoformat(),
        },
        idempotency_key=idempotency_key(match.runbook, alert.fingerprint, alert.starts_at),
        alert_fingerprint=alert.fingerprint,
        alert_starts_at=alert.starts_at,
        alertname=alert.alertname,
        concurrency_key=match.concurrency_key,
        labels=dict(alert.labels),
        cooldown_key=match.cooldown_key,
        cooldown_seconds=match.cooldown_seconds if match.cooldown_key else None,
        joins_incident=match.joins_incident,
    )
