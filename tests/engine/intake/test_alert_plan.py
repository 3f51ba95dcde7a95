"""Deciding per alert: idempotency keys, runs to start, resolves to pass on, unmatched reasons."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta, timezone

import orjson
import pytest

from engine.intake.alert_plan import catalog_matcher, idempotency_key, plan_alert
from integrations.alertmanager import WebhookAlert, decode_notification
from runbooks import UnmatchedReason, load_catalog
from tests.integrations.alertmanager.samples import webhook_body

STARTS_AT = datetime(2026, 11, 25, 17, 8, 30, 345340, tzinfo=UTC)
NOW = datetime(2026, 11, 25, 18, 0, tzinfo=UTC)
MATCHER = catalog_matcher(load_catalog())


def test_the_idempotency_key_is_the_documented_sha256() -> None:
    expected = hashlib.sha256(
        b"service-down\n2999bd4522b9e922\n2026-11-25T17:08:30.345340+00:00"
    ).hexdigest()

    assert idempotency_key("service-down", "2999bd4522b9e922", STARTS_AT) == expected


def test_the_same_instant_in_another_zone_gives_the_same_key() -> None:
    elsewhere = STARTS_AT.astimezone(timezone(timedelta(hours=-5)))

    assert idempotency_key("r", "f", elsewhere) == idempotency_key("r", "f", STARTS_AT)


@pytest.mark.parametrize(
    ("runbook", "fingerprint", "starts_at"),
    [
        ("kube-proxy-down", "2999bd4522b9e922", STARTS_AT),  # another runbook, same alert
        ("service-down", "72e429f01ffcee12", STARTS_AT),  # another alert
        ("service-down", "2999bd4522b9e922", STARTS_AT + timedelta(microseconds=1)),  # episode
    ],
)
def test_keys_differ_when_runbook_alert_or_episode_differ(
    runbook: str, fingerprint: str, starts_at: datetime
) -> None:
    assert idempotency_key(runbook, fingerprint, starts_at) != idempotency_key(
        "service-down", "2999bd4522b9e922", STARTS_AT
    )


def _alert(status: str = "firing", **labels: str) -> WebhookAlert:
    body = webhook_body("firing")
    body["alerts"][0]["status"] = status
    body["alerts"][0]["labels"] = labels
    if status == "resolved":
        body["alerts"][0]["endsAt"] = "2026-11-25T17:30:00Z"
    return decode_notification(orjson.dumps(body)).alerts[0]


def test_a_firing_alert_plans_one_request_per_matched_runbook() -> None:
    plan = plan_alert(
        _alert(alertname="ServiceDown", namespace="shop", endpoint="cart"), MATCHER, now=NOW
    )

    [request] = plan.requests
    assert request.runbook == "service-down"
    assert request.parameters == {
        "scope": "service",
        "namespace": "shop",
        "service": "cart",
        "alertname": "ServiceDown",
        "alert_fingerprint": request.alert_fingerprint,
        "alert_starts_at": request.alert_starts_at.isoformat(),
    }
    assert request.labels == {"alertname": "ServiceDown", "namespace": "shop", "endpoint": "cart"}
    assert plan.resolve is None
    assert plan.unmatched is None


def test_a_resolved_alert_plans_a_resolve_of_its_episode_and_no_run() -> None:
    plan = plan_alert(_alert("resolved", alertname="KubeProxyDown"), MATCHER, now=NOW)

    assert plan.requests == ()
    assert plan.resolve is not None
    assert plan.resolve.alert_fingerprint == "2999bd4522b9e922"
    assert plan.resolve.alert_starts_at == STARTS_AT
    assert plan.resolve.ends_at == datetime(2026, 11, 25, 17, 30, tzinfo=UTC)
    assert plan.resolve.alertname == "KubeProxyDown"
    assert plan.unmatched is None


def test_a_resolved_alert_without_ends_at_ends_now() -> None:
    alert = _alert("resolved", alertname="KubeProxyDown").model_copy(update={"ends_at": None})

    plan = plan_alert(alert, MATCHER, now=NOW)

    assert plan.resolve is not None
    assert plan.resolve.ends_at == NOW


@pytest.mark.parametrize(
    ("status", "labels", "reason"),
    [
        ("firing", {"alertname": "DiskFull"}, UnmatchedReason.NO_RUNBOOK),
        ("resolved", {"alertname": "DiskFull"}, UnmatchedReason.NO_RUNBOOK),
        ("firing", {"alertname": "ServiceDown", "service": "x"}, UnmatchedReason.MISSING_LABEL),
        ("firing", {}, UnmatchedReason.NO_RUNBOOK),
    ],
)
def test_an_alert_that_starts_nothing_is_unmatched_with_its_reason(
    status: str, labels: dict[str, str], reason: UnmatchedReason
) -> None:
    plan = plan_alert(_alert(status, **labels), MATCHER, now=NOW)

    assert plan.requests == ()
    assert plan.resolve is None
    assert plan.unmatched is not None
    assert plan.unmatched.reason is reason
