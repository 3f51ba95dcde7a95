"""Builders of handoff requests for the dispatcher tests."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from engine.handoff import ResolvedAlert, RunRequest

STARTS_AT = datetime(2025, 11, 25, 9, 30, 0, tzinfo=UTC)


def run_request(
    deployment: str = "engine-test-record/engine-test-record",
    *,
    marker: str | None = None,
    fingerprint: str | None = None,
    concurrency_key: str | None = None,
    starts_at: datetime = STARTS_AT,
    cooldown_key: str | None = None,
    cooldown_seconds: float | None = None,
) -> RunRequest:
    """A matched alert for a sample flow; a fresh marker and fingerprint unless given.

    ``starts_at`` names the episode: another one of the same alert has a later start.
    """
    marker = marker or uuid.uuid4().hex
    fingerprint = fingerprint or uuid.uuid4().hex[:16]
    return RunRequest(
        runbook="kube-proxy-down",
        deployment=deployment,
        parameters={"marker": marker},
        idempotency_key=f"kube-proxy-down:{fingerprint}:{starts_at.isoformat()}",
        alert_fingerprint=fingerprint,
        alert_starts_at=starts_at,
        alertname="KubeProxyDown",
        concurrency_key=concurrency_key,
        labels={"namespace": "kube-system", "severity": "critical"},
        cooldown_key=cooldown_key,
        cooldown_seconds=cooldown_seconds,
    )


def resolved(request: RunRequest) -> ResolvedAlert:
    """The resolved notification for the request's alert episode."""
    return ResolvedAlert(
        alert_fingerprint=request.alert_fingerprint,
        alert_starts_at=request.alert_starts_at,
        ends_at=request.alert_starts_at + timedelta(minutes=4),
        alertname=request.alertname,
    )
