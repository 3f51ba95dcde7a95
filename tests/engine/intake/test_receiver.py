"""The webhook hands every matched alert to the dispatcher before answering, once per episode."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from engine.handoff import RunHandle, RunRequest
from engine.intake.alert_plan import idempotency_key
from engine.intake.receiver import ReceiverLimits
from tests.engine.memory_dispatcher import InMemoryDispatcher
from tests.engine.receiver_harness import Receiver, receiver
from tests.integrations.alertmanager.samples import webhook_body

CHECKOUT_FINGERPRINT = "2999bd4522b9e922"
CHECKOUT_STARTS_AT = datetime(2026, 11, 25, 17, 8, 30, 345340, tzinfo=UTC)


@pytest.fixture
async def engine() -> AsyncIterator[Receiver]:
    async with receiver() as parts:
        yield parts


async def test_a_firing_service_down_alert_creates_one_service_checklist_run(
    engine: Receiver,
) -> None:
    response = await engine.post(webhook_body("firing"))

    assert response.status_code == 200
    [request] = engine.dispatcher.submitted
    assert request.runbook == "service-down"
    assert request.deployment == "service-checklist/service-checklist"
    assert request.parameters == {
        "scope": "service",
        "namespace": "prod",
        "service": "checkout",
        "alertname": "ServiceDown",
        "alert_fingerprint": CHECKOUT_FINGERPRINT,
        "alert_starts_at": CHECKOUT_STARTS_AT.isoformat(),
    }
    assert request.concurrency_key == "service/prod/checkout"
    assert request.alert_fingerprint == CHECKOUT_FINGERPRINT
    assert request.alert_starts_at == CHECKOUT_STARTS_AT
    assert request.alertname == "ServiceDown"
    assert request.labels["severity"] == "critical"
    assert request.idempotency_key == idempotency_key(
        "service-down", CHECKOUT_FINGERPRINT, CHECKOUT_STARTS_AT
    )
    [entry] = response.json()["alerts"]
    assert entry == {
        "fingerprint": CHECKOUT_FINGERPRINT,
        "alertname": "ServiceDown",
        "outcome": "created",
        "runbook": "service-down",
        "flow_run_id": str(engine.dispatcher.runs[request.idempotency_key]),
        "detail": "",
    }


async def test_each_alert_of_a_group_is_matched_on_its_own_labels(engine: Receiver) -> None:
    response = await engine.post(webhook_body("group_2alerts"))

    assert response.status_code == 200
    fingerprints = [request.alert_fingerprint for request in engine.dispatcher.submitted]
    assert sorted(fingerprints) == ["20bbe49c1e87221b", "72e429f01ffcee12"]
    assert {request.labels["pod"] for request in engine.dispatcher.submitted} == {"a", "b"}
    outcomes = response.json()["alerts"]
    assert [entry["outcome"] for entry in outcomes] == ["created", "created"]
    assert len({entry["flow_run_id"] for entry in outcomes}) == 2


async def test_an_alert_whose_run_is_refused_is_reported_and_counted_while_the_rest_proceed(
    engine: Receiver,
) -> None:
    engine.dispatcher.refused_pods.add("a")

    response = await engine.post(webhook_body("group_2alerts"))

    assert response.status_code == 200  # a retry cannot fix the catalog: no endless redelivery
    outcomes = {entry["outcome"]: entry for entry in response.json()["alerts"]}
    assert set(outcomes) == {"refused", "created"}
    assert outcomes["refused"]["detail"] == "parameter 'pod': 'a' is not valid"
    assert outcomes["refused"]["flow_run_id"] is None
    runbook = outcomes["refused"]["runbook"]
    assert engine.metric("runbooks_receiver_runs_refused_total", runbook=runbook) == 1


async def test_a_redelivered_notification_finds_the_run_it_already_created(
    engine: Receiver,
) -> None:
    first = await engine.post(webhook_body("firing"))
    again = await engine.post(webhook_body("firing"))

    assert [entry["outcome"] for entry in again.json()["alerts"]] == ["duplicate"]
    assert again.json()["alerts"][0]["flow_run_id"] == first.json()["alerts"][0]["flow_run_id"]
    assert len(engine.dispatcher.runs) == 1
    assert engine.metric("runbooks_receiver_runs_created_total", runbook="service-down") == 1
    assert (
        engine.metric("runbooks_receiver_duplicates_suppressed_total", runbook="service-down") == 1
    )


async def test_the_same_alert_firing_again_after_it_resolved_starts_a_new_run(
    engine: Receiver,
) -> None:
    body = webhook_body("firing")
    await engine.post(body)
    body["alerts"][0]["startsAt"] = "2026-11-25T18:00:00Z"

    response = await engine.post(body)

    assert [entry["outcome"] for entry in response.json()["alerts"]] == ["created"]
    assert len(engine.dispatcher.runs) == 2


async def test_a_resolved_alert_is_passed_to_the_dispatcher_with_its_episode(
    engine: Receiver,
) -> None:
    created = await engine.post(webhook_body("firing"))

    response = await engine.post(webhook_body("resolved"))

    assert response.status_code == 200
    [resolved] = engine.dispatcher.resolved
    assert resolved.alert_fingerprint == CHECKOUT_FINGERPRINT
    assert resolved.alert_starts_at == CHECKOUT_STARTS_AT
    assert resolved.ends_at == datetime(2026, 11, 25, 17, 8, 30, 349405, tzinfo=UTC)
    assert resolved.alertname == "ServiceDown"
    [entry] = response.json()["alerts"]
    assert entry["outcome"] == "resolved"
    assert entry["flow_run_id"] == created.json()["alerts"][0]["flow_run_id"]
    assert engine.dispatcher.submitted[1:] == []
    assert engine.metric("runbooks_receiver_resolved_runs_total") == 1


async def test_an_alert_no_runbook_handles_is_acknowledged_and_counted_unmatched(
    engine: Receiver,
) -> None:
    body = webhook_body("firing")
    body["alerts"][0]["labels"]["alertname"] = "DiskFull"

    response = await engine.post(body)

    assert response.status_code == 200
    assert engine.dispatcher.submitted == []
    [entry] = response.json()["alerts"]
    assert entry["outcome"] == "unmatched"
    assert entry["runbook"] is None
    assert "no runbook matches alertname='DiskFull'" in entry["detail"]
    assert engine.metric("runbooks_receiver_unmatched_alerts_total", reason="no_runbook") == 1


async def test_a_matched_alert_missing_a_needed_label_is_unmatched_with_the_reason(
    engine: Receiver,
) -> None:
    body = webhook_body("firing")
    del body["alerts"][0]["labels"]["namespace"]

    response = await engine.post(body)

    assert response.status_code == 200
    [entry] = response.json()["alerts"]
    assert entry["outcome"] == "unmatched"
    assert "label 'namespace' is missing" in entry["detail"]
    assert engine.metric("runbooks_receiver_unmatched_alerts_total", reason="missing_label") == 1


async def test_a_resolved_alert_no_runbook_handles_never_reaches_the_dispatcher(
    engine: Receiver,
) -> None:
    body = webhook_body("resolved")
    body["alerts"][0]["labels"]["alertname"] = "DiskFull"

    response = await engine.post(body)

    assert response.status_code == 200
    assert engine.dispatcher.resolved == []
    assert response.json()["alerts"][0]["outcome"] == "unmatched"


async def test_prefect_down_answers_503_and_the_retry_creates_each_run_once(
    engine: Receiver,
) -> None:
    engine.dispatcher.unavailable = True

    refused = await engine.post(webhook_body("group_2alerts"))

    assert refused.status_code == 503
    assert "run store unavailable" in refused.json()["error"]
    assert engine.dispatcher.runs == {}
    assert engine.metric("runbooks_receiver_handoff_unavailable_total", operation="submit") == 2

    engine.dispatcher.unavailable = False
    retried = await engine.post(webhook_body("group_2alerts"))
    repeated = await engine.post(webhook_body("group_2alerts"))

    assert retried.status_code == 200
    assert [entry["outcome"] for entry in retried.json()["alerts"]] == ["created", "created"]
    assert [entry["outcome"] for entry in repeated.json()["alerts"]] == ["duplicate"] * 2
    assert len(engine.dispatcher.runs) == 2


async def test_a_store_failing_mid_group_answers_503_and_the_retry_completes_the_group(
    engine: Receiver,
) -> None:
    body = webhook_body("group_2alerts")
    single = webhook_body("group_2alerts")
    single["alerts"] = single["alerts"][:1]
    await engine.post(single)
    engine.dispatcher.unavailable = True
    assert (await engine.post(body)).status_code == 503

    engine.dispatcher.unavailable = False
    retried = await engine.post(body)

    outcomes = {entry["fingerprint"]: entry["outcome"] for entry in retried.json()["alerts"]}
    assert outcomes == {"72e429f01ffcee12": "duplicate", "20bbe49c1e87221b": "created"}


class _HungDispatcher(InMemoryDispatcher):
    """A run store that accepts the connection and never answers."""

    async def submit(self, request: RunRequest) -> RunHandle:
        await asyncio.sleep(30)
        raise AssertionError("the receiver should have stopped waiting")


async def test_a_hung_run_store_answers_503_before_alertmanager_gives_up() -> None:
    limits = ReceiverLimits(handoff_timeout_seconds=0.05)
    async with receiver(dispatcher=_HungDispatcher(), limits=limits) as parts:
        response = await parts.post(webhook_body("firing"))

    assert response.status_code == 503
    assert "longer than 0.05s" in response.json()["error"]
