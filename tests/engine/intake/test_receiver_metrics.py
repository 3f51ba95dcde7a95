"""/metrics counts what the receiver did; /healthz says the process is up; /readyz checks deps."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from prometheus_client.parser import text_string_to_metric_families

from engine.intake.receiver import ReceiverLimits
from tests.engine.memory_dispatcher import InMemoryDispatcher
from tests.engine.receiver_harness import Receiver, receiver
from tests.integrations.alertmanager.samples import webhook_body


@pytest.fixture
async def engine() -> AsyncIterator[Receiver]:
    async with receiver() as parts:
        yield parts


async def _scrape(engine: Receiver) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = await engine.client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


async def test_metrics_count_notifications_alerts_runs_and_rejections(engine: Receiver) -> None:
    engine.clock.step = 0.002  # every clock read advances: each handoff "takes" 2 ms
    unknown = webhook_body("firing")
    unknown["alerts"][0]["labels"]["alertname"] = "DiskFull"
    await engine.post(webhook_body("firing"))
    await engine.post(webhook_body("firing"))
    await engine.post(webhook_body("group_2alerts"))
    await engine.post(webhook_body("resolved"))
    await engine.post(unknown)
    await engine.post(webhook_body("firing"), headers={"Authorization": "Bearer nope"})

    samples = await _scrape(engine)

    prefix = "runbooks_receiver_"
    assert samples[(f"{prefix}notifications_total", (("status", "firing"),))] == 4
    assert samples[(f"{prefix}notifications_total", (("status", "resolved"),))] == 1
    firing_service_down = (("alertname", "ServiceDown"), ("status", "firing"))
    assert samples[(f"{prefix}alerts_total", firing_service_down)] == 4
    assert (
        samples[(f"{prefix}alerts_total", (("alertname", "DiskFull"), ("status", "firing")))] == 1
    )
    assert samples[(f"{prefix}runs_created_total", (("runbook", "service-down"),))] == 3
    assert samples[(f"{prefix}duplicates_suppressed_total", (("runbook", "service-down"),))] == 1
    assert samples[(f"{prefix}unmatched_alerts_total", (("reason", "no_runbook"),))] == 1
    assert samples[(f"{prefix}resolved_runs_total", ())] == 1
    assert samples[(f"{prefix}rejected_requests_total", (("reason", "unauthorized"),))] == 1
    assert samples[(f"{prefix}handoff_seconds_count", (("operation", "submit"),))] == 4
    assert samples[(f"{prefix}handoff_seconds_count", (("operation", "resolve"),))] == 1
    assert samples[(f"{prefix}handoff_seconds_sum", (("operation", "submit"),))] == pytest.approx(
        4 * 0.002, abs=1e-5
    )
    within_5ms = (("le", "0.005"), ("operation", "submit"))
    assert samples[(f"{prefix}handoff_seconds_bucket", within_5ms)] == 4


async def test_healthz_answers_while_the_process_is_up_even_with_prefect_down(
    engine: Receiver,
) -> None:
    engine.dispatcher.unavailable = True

    response = await engine.client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_is_ready_when_the_run_store_and_kubernetes_answer(engine: Receiver) -> None:
    response = await engine.client.get("/readyz")

    assert response.status_code == 200
    assert response.json() == {"ready": True, "checks": {"run_store": "ok", "kubernetes": "ok"}}


async def test_readyz_names_the_run_store_when_prefect_is_down(engine: Receiver) -> None:
    engine.dispatcher.unavailable = True

    response = await engine.client.get("/readyz")

    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["run_store"] == "not ready: run store unreachable (simulated)"
    assert checks["kubernetes"] == "ok"


async def test_readyz_names_kubernetes_when_the_apiserver_is_unreachable(
    engine: Receiver,
) -> None:
    engine.kubernetes.reachable = False

    response = await engine.client.get("/readyz")

    assert response.status_code == 503
    assert response.json()["checks"]["kubernetes"].startswith("not ready: apiserver")


class _HungStore(InMemoryDispatcher):
    """A run store whose health check never answers."""

    async def check_ready(self) -> None:
        await asyncio.sleep(30)


async def test_readyz_does_not_wait_forever_on_a_hung_check() -> None:
    limits = ReceiverLimits(readiness_timeout_seconds=0.05)
    async with receiver(dispatcher=_HungStore(), limits=limits) as parts:
        response = await parts.client.get("/readyz")

    assert response.status_code == 503
    assert response.json()["checks"]["run_store"] == "not ready: no answer within 0.05s"
