"""Webhook payloads from Alertmanager 0.25 decode; bad ones are refused naming the field."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest

from integrations.alertmanager import PayloadError, PayloadProblem, decode_notification
from integrations.alertmanager.decoding import format_location
from tests.integrations.alertmanager.samples import webhook_body


def test_a_captured_firing_notification_decodes_with_every_field() -> None:
    notification = decode_notification(orjson.dumps(webhook_body("firing")))

    assert notification.version == "4"
    assert notification.status == "firing"
    assert notification.receiver == "runbook"
    assert notification.group_key == (
        '{}:{alertname="ServiceDown", namespace="prod", service="checkout"}'
    )
    assert notification.truncated_alerts == 0
    assert notification.group_labels == {
        "alertname": "ServiceDown",
        "namespace": "prod",
        "service": "checkout",
    }
    assert notification.common_labels["severity"] == "critical"
    assert notification.common_annotations["summary"] == "checkout in prod is down"
    assert notification.external_url == "http://127.0.0.1:9093"
    [alert] = notification.alerts
    assert alert.status == "firing"
    assert alert.alertname == "ServiceDown"
    assert alert.fingerprint == "2999bd4522b9e922"
    assert alert.starts_at == datetime(2026, 11, 25, 17, 8, 30, 345340, tzinfo=UTC)
    assert alert.ends_at is None  # Go's zero time: still firing
    assert alert.generator_url == "http://127.0.0.1:9090/graph?g0.expr=up%3D%3D0"
    assert alert.annotations["runbook"] == "restart-kube-proxy"


def test_a_resolved_alert_carries_its_end() -> None:
    [alert] = decode_notification(orjson.dumps(webhook_body("resolved"))).alerts

    assert alert.status == "resolved"
    assert alert.ends_at == datetime(2026, 11, 25, 17, 8, 30, 349405, tzinfo=UTC)


def test_a_grouped_notification_keeps_each_alert_with_its_own_labels() -> None:
    notification = decode_notification(orjson.dumps(webhook_body("group_2alerts")))

    assert [alert.labels["pod"] for alert in notification.alerts] == ["a", "b"]
    assert "pod" not in notification.common_labels


def test_nanosecond_timestamps_from_go_are_read_to_the_microsecond() -> None:
    body = webhook_body("firing")
    body["alerts"][0]["startsAt"] = "2026-11-25T17:08:30.345340123+01:00"

    [alert] = decode_notification(orjson.dumps(body)).alerts

    assert alert.starts_at == datetime(2026, 11, 25, 16, 8, 30, 345340, tzinfo=UTC)


def test_optional_fields_may_be_absent() -> None:
    body = webhook_body("firing")
    for name in ("groupLabels", "commonLabels", "commonAnnotations", "externalURL"):
        del body[name]
    for name in ("annotations", "endsAt", "generatorURL"):
        del body["alerts"][0][name]

    notification = decode_notification(orjson.dumps(body))

    assert notification.common_labels == {}
    assert notification.alerts[0].annotations == {}
    assert notification.alerts[0].ends_at is None


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda b: b.pop("version"), "version"),
        (lambda b: b.pop("status"), "status"),
        (lambda b: b.pop("receiver"), "receiver"),
        (lambda b: b.pop("alerts"), "alerts"),
        (lambda b: b["alerts"][0].pop("startsAt"), "alerts[0].startsAt"),
        (lambda b: b["alerts"][0].update(fingerprint=""), "alerts[0].fingerprint"),
        (lambda b: b["alerts"][0].update(labels="alertname=X"), "alerts[0].labels"),
        (lambda b: b["alerts"][0]["annotations"].update(n=None), "alerts[0].annotations.n"),
        (lambda b: b.update(groupLabels=[]), "groupLabels"),
        (lambda b: b.update(truncatedAlerts=True), "truncatedAlerts"),
        (lambda b: b.update(truncatedAlerts=1.5), "truncatedAlerts"),
        (lambda b: b.update(externalURL=9093), "externalURL"),
        (lambda b: b["alerts"].append("not an alert"), "alerts[1]"),
    ],
)
def test_wrong_types_and_missing_fields_are_refused_naming_the_field(
    mutate: Callable[[dict[str, Any]], object], field: str
) -> None:
    body = webhook_body("firing")
    mutate(body)

    with pytest.raises(PayloadError) as refused:
        decode_notification(orjson.dumps(body))

    assert refused.value.problem is PayloadProblem.INVALID_PAYLOAD
    assert refused.value.field == field
    assert refused.value.group_key == body["groupKey"]
    assert refused.value.fix


@pytest.mark.parametrize("raw", [b"", b"{", b"not json", b'{"a": 1} trailing', b"\xff\xfe"])
def test_bodies_that_are_not_json_are_malformed(raw: bytes) -> None:
    with pytest.raises(PayloadError) as refused:
        decode_notification(raw)

    assert refused.value.problem is PayloadProblem.MALFORMED_JSON
    assert refused.value.field is None
    assert refused.value.group_key is None


@pytest.mark.parametrize(
    ("loc", "path"),
    [
        ((), ""),
        (("version",), "version"),
        (("alerts", 0, "labels"), "alerts[0].labels"),
        (("alerts", 12, "labels", "severity"), "alerts[12].labels.severity"),
        (("alerts", 0), "alerts[0]"),
    ],
)
def test_error_locations_read_as_paths(loc: tuple[int | str, ...], path: str) -> None:
    assert format_location(loc) == path
