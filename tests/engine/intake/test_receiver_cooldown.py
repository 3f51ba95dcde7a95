"""The webhook over the real dispatcher: an alert held back by a cooldown, answered and counted."""

from __future__ import annotations

import textwrap
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID

import httpx
import orjson
import pytest
from prometheus_client import CollectorRegistry

from engine.dispatch.dispatcher import PrefectDispatcher
from engine.intake.alert_plan import build_run_request, catalog_matcher
from engine.intake.receiver import build_receiver
from integrations.alertmanager import decode_notification
from runbooks import load_catalog
from tests.engine.receiver_harness import AUTH, BEARER, FakeClock, KubernetesStub
from tests.integrations.alertmanager.samples import webhook_body

CATALOG = """\
name: engine-test-cooldown
description: Records a ServiceDown alert (engine tests).
match:
  labels:
    alertname: ServiceDown
deployment: engine-test-record/engine-test-record
parameters:
  marker:
    from_label: service
  note:
    from_label: namespace
cooldown:
  duration: 10m
  target: "{note}/{marker}"
concurrency_key: "service/{note}/{marker}"
"""


@dataclass
class PrefectReceiver:
    """The webhook over the real dispatcher, with a client talking ASGI to it."""

    client: httpx.AsyncClient
    registry: CollectorRegistry

    async def fire(self, service: str, *, starts_at: str) -> dict[str, object]:
        """POST one firing ServiceDown alert for ``service``; the response's only alert entry."""
        body = webhook_body("firing")
        alert = body["alerts"][0]
        alert["labels"]["service"] = service
        alert["fingerprint"] = service[:16]
        alert["startsAt"] = starts_at
        response = await self.client.post("/alertmanager", json=body, headers=BEARER)
        assert response.status_code == 200, response.text
        [entry] = response.json()["alerts"]
        return dict(entry)


@pytest.fixture
async def webhook(
    tmp_path: Path, deployment_ids: dict[str, UUID]
) -> AsyncIterator[PrefectReceiver]:
    (tmp_path / "cooldown.yaml").write_text(textwrap.dedent(CATALOG), encoding="utf-8")
    dispatcher = PrefectDispatcher(deployment_ids)
    registry = CollectorRegistry()
    app = build_receiver(
        dispatcher=dispatcher,
        matcher=catalog_matcher(load_catalog(tmp_path)),
        auth=AUTH,
        registry=registry,
        kubernetes_check=KubernetesStub(),
        clock=FakeClock(),
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://receiver.test") as client:
        yield PrefectReceiver(client=client, registry=registry)
    await dispatcher.aclose()


async def test_the_webhook_answers_cooldown_for_a_held_back_alert_and_counts_it(
    webhook: PrefectReceiver,
) -> None:
    service = uuid.uuid4().hex
    created = await webhook.fire(service, starts_at="2026-11-25T17:08:30Z")

    held = await webhook.fire(service, starts_at="2026-11-25T17:20:00Z")

    assert created["outcome"] == "created"
    assert held["outcome"] == "cooldown"
    assert held["runbook"] == "engine-test-cooldown"
    assert held["flow_run_id"] == created["flow_run_id"]
    assert str(held["detail"]).startswith(f"cooldown: engine-test-cooldown:prod/{service} ran ")
    assert str(held["detail"]).endswith("cooldown 600 s")
    counted = webhook.registry.get_sample_value(
        "runbooks_receiver_cooldown_suppressed_total", {"runbook": "engine-test-cooldown"}
    )
    assert counted == 1
    created_count = webhook.registry.get_sample_value(
        "runbooks_receiver_runs_created_total", {"runbook": "engine-test-cooldown"}
    )
    assert created_count == 1


def test_a_matched_runbooks_cooldown_reaches_the_run_request() -> None:
    [alert] = decode_notification(orjson.dumps(webhook_body("firing"))).alerts
    [match] = catalog_matcher(load_catalog())(alert.labels, "firing").matches

    request = build_run_request(match, alert)

    assert (request.cooldown_key, request.cooldown_seconds) == ("service-down:prod/checkout", 600)
