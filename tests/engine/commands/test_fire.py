"""`runbooks fire` builds the payload Alertmanager would send and delivers it over HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest
from pydantic import SecretStr

from engine.commands.fire import build_notification, fire_alert
from engine.intake.auth import WebhookAuth
from integrations.alertmanager import decode_notification
from tests.engine.memory_dispatcher import InMemoryDispatcher
from tests.engine.receiver_harness import AUTH, build_app
from tests.engine.served import served
from tests.integrations.alertmanager.samples import webhook_body

CHECKOUT = {"namespace": "prod", "service": "checkout", "severity": "critical"}
STARTS_AT = datetime(2026, 11, 25, 17, 8, 30, 345340, tzinfo=UTC)
ENDS_AT = datetime(2026, 11, 25, 17, 8, 30, 349405, tzinfo=UTC)


def test_the_firing_payload_reads_like_the_one_alertmanager_sent() -> None:
    captured = webhook_body("firing")

    built = build_notification(
        alertname="ServiceDown",
        labels=CHECKOUT,
        resolve=False,
        starts_at=STARTS_AT,
        ends_at=ENDS_AT,
        annotations=captured["commonAnnotations"],
    )

    [alert] = decode_notification(orjson.dumps(built)).alerts
    [captured_alert] = decode_notification(orjson.dumps(captured)).alerts
    assert alert.model_copy(update={"generator_url": captured_alert.generator_url}) == (
        captured_alert
    )
    assert built["alerts"][0]["endsAt"] == "0001-01-01T00:00:00.000000Z"
    for name in ("version", "status", "groupKey", "groupLabels", "commonLabels", "truncatedAlerts"):
        assert built[name] == captured[name], name


def test_the_resolve_payload_repeats_the_episode_and_ends_it() -> None:
    built = build_notification(
        alertname="ServiceDown", labels=CHECKOUT, resolve=True, starts_at=STARTS_AT, ends_at=ENDS_AT
    )

    [alert] = decode_notification(orjson.dumps(built)).alerts
    assert built["status"] == "resolved"
    assert alert.status == "resolved"
    assert alert.starts_at == STARTS_AT
    assert alert.ends_at == ENDS_AT
    assert alert.fingerprint == "2999bd4522b9e922"


def test_the_alertname_argument_wins_over_an_alertname_label() -> None:
    built = build_notification(
        alertname="KubeProxyDown",
        labels={"alertname": "Other"},
        resolve=False,
        starts_at=STARTS_AT,
        ends_at=ENDS_AT,
    )

    assert built["alerts"][0]["labels"] == {"alertname": "KubeProxyDown"}


@dataclass
class _Engine:
    url: str
    dispatcher: InMemoryDispatcher


@pytest.fixture
def engine() -> Iterator[_Engine]:
    parts = build_app()
    with served(parts.app) as url:
        yield _Engine(url=f"{url}/alertmanager", dispatcher=parts.dispatcher)


def test_firing_then_resolving_starts_a_run_and_stops_that_episode(
    engine: _Engine, tmp_path: Path
) -> None:
    memory = tmp_path / "fired.json"

    fired = fire_alert(
        engine.url,
        alertname="ServiceDown",
        labels=CHECKOUT,
        resolve=False,
        auth=AUTH,
        memory=memory,
    )
    refired = fire_alert(
        engine.url,
        alertname="ServiceDown",
        labels=CHECKOUT,
        resolve=False,
        auth=AUTH,
        memory=memory,
    )
    resolved = fire_alert(
        engine.url, alertname="ServiceDown", labels=CHECKOUT, resolve=True, auth=AUTH, memory=memory
    )

    assert fired.accepted
    [created] = fired.alerts
    assert created["outcome"] == "created"
    assert created["runbook"] == "service-down"
    assert fired.fingerprint == "2999bd4522b9e922"
    assert [entry["outcome"] for entry in refired.alerts] == ["duplicate"]
    assert refired.starts_at == fired.starts_at
    [request] = engine.dispatcher.submitted[:1]
    assert request.parameters == {
        "scope": "service",
        "namespace": "prod",
        "service": "checkout",
        "alertname": "ServiceDown",
        "alert_fingerprint": fired.fingerprint,
        "alert_starts_at": fired.starts_at.isoformat(),
    }
    [resolve] = engine.dispatcher.resolved
    assert resolve.alert_starts_at == fired.starts_at
    assert [entry["flow_run_id"] for entry in resolved.alerts] == [created["flow_run_id"]]
    assert orjson.loads(memory.read_text()) == {}
    assert "created: service-down (flow run " in fired.describe()


def test_an_explicit_starts_at_names_the_episode(engine: _Engine) -> None:
    fired = fire_alert(
        engine.url,
        alertname="KubeProxyDown",
        labels={},
        resolve=False,
        auth=AUTH,
        starts_at=STARTS_AT,
    )

    assert fired.starts_at == STARTS_AT
    assert engine.dispatcher.submitted[0].alert_starts_at == STARTS_AT


def test_wrong_credentials_come_back_as_the_engines_error(engine: _Engine) -> None:
    wrong = WebhookAuth(bearer_token=SecretStr("not-the-token"))

    summary = fire_alert(
        engine.url, alertname="ServiceDown", labels=CHECKOUT, resolve=False, auth=wrong
    )

    assert summary.status_code == 401
    assert not summary.accepted
    assert summary.error == "missing or wrong credentials"
    assert "HTTP 401" in summary.describe()
    assert engine.dispatcher.submitted == []
