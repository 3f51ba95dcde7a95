"""Only truly bad requests get 4xx, each naming what to fix, and a resent one is logged once."""

from __future__ import annotations

import base64
import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest

from engine.intake.receiver import MIB
from tests.engine.receiver_harness import BASIC, BEARER, Receiver, receiver
from tests.integrations.alertmanager.samples import webhook_body


@pytest.fixture
async def engine() -> AsyncIterator[Receiver]:
    async with receiver() as parts:
        yield parts


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({}, id="no credentials"),
        pytest.param({"Authorization": "Bearer wrong-token"}, id="wrong bearer token"),
        pytest.param({"Authorization": "Bearer "}, id="empty bearer token"),
        pytest.param(
            {"Authorization": "Basic " + base64.b64encode(b"amuser:wrong").decode()},
            id="wrong basic password",
        ),
        pytest.param(
            {"Authorization": "Basic " + base64.b64encode(b"intruder:ampass").decode()},
            id="wrong basic user",
        ),
        pytest.param({"Authorization": "Basic not-base64!"}, id="garbled basic"),
        pytest.param({"Authorization": "Digest username=amuser"}, id="unsupported scheme"),
    ],
)
async def test_requests_without_the_right_credentials_get_401_with_a_challenge(
    engine: Receiver, headers: dict[str, str]
) -> None:
    response = await engine.post(webhook_body("firing"), headers=headers)

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == (
        'Bearer realm="runbooks", Basic realm="runbooks", charset="UTF-8"'
    )
    assert response.json()["error"] == "missing or wrong credentials"
    assert engine.dispatcher.submitted == []
    assert engine.metric("runbooks_receiver_rejected_requests_total", reason="unauthorized") == 1


@pytest.mark.parametrize("headers", [BEARER, BASIC], ids=["bearer", "basic"])
async def test_either_configured_scheme_is_accepted(
    engine: Receiver, headers: dict[str, str]
) -> None:
    response = await engine.post(webhook_body("firing"), headers=headers)

    assert response.status_code == 200


async def test_a_body_that_is_not_json_gets_400(engine: Receiver) -> None:
    response = await engine.client.post("/alertmanager", content=b'{"alerts": [', headers=BEARER)

    assert response.status_code == 400
    body = response.json()
    assert body["error"].startswith("body is not valid JSON")
    assert body["field"] is None
    assert "JSON object" in body["fix"]
    assert engine.metric("runbooks_receiver_rejected_requests_total", reason="malformed_json") == 1


def _with(path: str, value: Any) -> dict[str, Any]:
    """The firing sample with one field (``alerts.0.labels``) set to `value`, or removed."""
    body = webhook_body("firing")
    *parents, last = path.split(".")
    target: Any = body
    for part in parents:
        target = target[int(part)] if part.isdigit() else target[part]
    if value is _REMOVE:
        del target[last]
    else:
        target[last] = value
    return body


_REMOVE = object()


@pytest.mark.parametrize(
    ("path", "value", "field", "fix"),
    [
        ("alerts.0.labels", ["alertname"], "alerts[0].labels", "JSON object of strings"),
        ("alerts.0.labels", _REMOVE, "alerts[0].labels", "add alerts[0].labels"),
        ("alerts.0.labels.severity", 2, "alerts[0].labels.severity", "as a JSON string"),
        ("alerts.0.startsAt", "yesterday", "alerts[0].startsAt", "RFC 3339 timestamp"),
        ("alerts.0.startsAt", "2026-11-25T17:08:30", "alerts[0].startsAt", "with a zone"),
        ("alerts.0.status", "pending", "alerts[0].status", "'firing' or 'resolved'"),
        ("alerts.0.fingerprint", _REMOVE, "alerts[0].fingerprint", "add"),
        ("alerts", {"0": {}}, "alerts", "JSON array"),
        ("version", "3", "version", "'4'"),
        ("groupKey", _REMOVE, "groupKey", "add groupKey"),
        ("truncatedAlerts", "2", "truncatedAlerts", "non-negative integer"),
        ("truncatedAlerts", -1, "truncatedAlerts", "non-negative integer"),
    ],
)
async def test_a_payload_with_a_wrong_field_gets_422_naming_the_field(
    engine: Receiver, path: str, value: Any, field: str, fix: str
) -> None:
    response = await engine.post(_with(path, value))

    assert response.status_code == 422
    body = response.json()
    assert body["field"] == field
    assert body["error"].startswith(f"{field}: ")
    assert fix in body["fix"]
    assert engine.dispatcher.submitted == []
    assert engine.metric("runbooks_receiver_rejected_requests_total", reason="invalid_payload") == 1


async def test_a_json_array_body_gets_422(engine: Receiver) -> None:
    response = await engine.post([webhook_body("firing")])

    assert response.status_code == 422
    assert response.json()["error"] == "body is a JSON list, not an object"


async def test_fields_added_by_newer_alertmanager_releases_are_ignored(engine: Receiver) -> None:
    body = webhook_body("firing")
    body["someFutureField"] = {"nested": True}
    body["alerts"][0]["silencedBy"] = ["a271e3fa"]

    response = await engine.post(body)

    assert response.status_code == 200
    assert len(engine.dispatcher.submitted) == 1


async def test_a_body_declaring_more_than_one_mib_gets_413_unread(engine: Receiver) -> None:
    response = await engine.client.post("/alertmanager", content=b"x" * (MIB + 1), headers=BEARER)

    assert response.status_code == 413
    assert "limit of 1048576 bytes" in response.json()["error"]
    assert "max_alerts" in response.json()["fix"]
    assert engine.metric("runbooks_receiver_rejected_requests_total", reason="too_large") == 1


async def test_a_chunked_body_is_cut_off_as_soon_as_it_passes_one_mib(engine: Receiver) -> None:
    chunk = b" " * 65536
    sent: list[int] = []

    async def endless_body() -> AsyncIterator[bytes]:
        for index in range(160):  # 10 MiB if the receiver read it all
            sent.append(index)
            yield chunk

    response = await engine.client.post("/alertmanager", content=endless_body(), headers=BEARER)

    assert response.status_code == 413
    assert len(sent) <= 18  # 16 chunks make 1 MiB; the 17th passes the limit


async def test_a_rejected_group_is_logged_once_however_often_it_is_resent(
    engine: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    bad = _with("alerts.0.labels.severity", 2)
    other_group = _with("alerts.0.labels.severity", 2)
    other_group["groupKey"] = '{}:{alertname="ServiceDown", service="other"}'
    caplog.set_level(logging.WARNING, logger="engine.intake.receiver")

    for _ in range(3):
        assert (await engine.post(bad)).status_code == 422
    assert (await engine.post(other_group)).status_code == 422
    engine.clock.advance(3601)
    assert (await engine.post(bad)).status_code == 422

    rejections = [
        r for r in caplog.records if r.getMessage().startswith("webhook request rejected")
    ]
    assert [r.__dict__["group"] for r in rejections] == [
        bad["groupKey"],
        other_group["groupKey"],
        bad["groupKey"],
    ]
    assert engine.metric("runbooks_receiver_rejected_requests_total", reason="invalid_payload") == 5


async def test_truncated_alerts_are_counted_and_logged(
    engine: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    body = webhook_body("firing")
    body["truncatedAlerts"] = 7
    caplog.set_level(logging.WARNING, logger="engine.intake.receiver")

    response = await engine.post(body)

    assert response.status_code == 200
    assert engine.metric("runbooks_receiver_truncated_alerts_total") == 7
    [warning] = [r for r in caplog.records if "left alerts out" in r.getMessage()]
    assert warning.__dict__["truncated_alerts"] == 7
