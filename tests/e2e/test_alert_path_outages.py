"""The alert path when parts fail: a receiver restart, Prefect down, a prompt 503.

Alertmanager retries what the engine could not take, and each alert still gets exactly one run.
"""

from __future__ import annotations

import asyncio
import time

import httpx

from engine.commands.fire import build_notification
from integrations.alertmanager import fingerprint_labels
from tests.e2e.alert_stack import (
    ALERTMANAGER_MIN_TIMEOUT,
    E2E_MARKS,
    Stack,
    eventually,
    just_now,
    outcome,
    service_down,
    the_only_run,
)
from tests.e2e.alertmanager_process import Alertmanager
from tests.e2e.prometheus_alerts import prometheus_alert
from tests.e2e.served_engine import BEARER

pytestmark = E2E_MARKS


async def test_alertmanager_retries_across_a_receiver_restart_and_the_run_is_created_once(
    stack: Stack, alertmanager: Alertmanager
) -> None:
    labels = service_down("checkout-restart")
    await asyncio.to_thread(stack.engine.stop)
    try:
        alertmanager.post_alerts([prometheus_alert(labels, starts_at=just_now())])

        async def refused() -> bool:
            return "connection refused" in alertmanager.log.read_text(errors="replace")

        await eventually(refused, what="Alertmanager never tried", alertmanager=alertmanager)
    finally:
        await asyncio.to_thread(stack.engine.start)

    run = await the_only_run(stack, fingerprint_labels(labels))
    assert outcome(run).startswith("COMPLETED: "), outcome(run)
    assert (
        await stack.engine.metric("runbooks_receiver_runs_created_total", runbook="service-down")
        == 1
    )


async def test_alertmanager_retries_while_prefect_is_down_and_the_run_is_created_once(
    stack: Stack, alertmanager: Alertmanager
) -> None:
    labels = service_down("web-outage")
    await asyncio.to_thread(stack.prefect.stop)
    try:
        alertmanager.post_alerts([prometheus_alert(labels, starts_at=just_now())])

        async def delivery_failed() -> bool:
            return "Notify for alerts failed" in alertmanager.log.read_text(errors="replace")

        await eventually(
            delivery_failed,
            what="no delivery failed while Prefect was down",
            alertmanager=alertmanager,
        )
    finally:
        await asyncio.to_thread(stack.prefect.start)

    run = await the_only_run(stack, fingerprint_labels(labels))
    assert outcome(run).startswith("COMPLETED: "), outcome(run)


async def test_while_prefect_is_down_the_receiver_answers_503_promptly_and_counts_it(
    stack: Stack,
) -> None:
    notification = build_notification(
        alertname="ServiceDown",
        labels=service_down("web-prompt"),
        resolve=False,
        starts_at=just_now(),
        ends_at=just_now(),
    )
    unavailable = "runbooks_receiver_handoff_unavailable_total"
    before = await stack.engine.metric(unavailable, operation="submit")
    async with httpx.AsyncClient(timeout=30) as client:
        # As the kubelet's probes do: the engine has reached Prefect before it goes away.
        assert (await client.get(f"{stack.engine.url}/readyz")).status_code == 200
    await asyncio.to_thread(stack.prefect.stop)
    try:
        async with httpx.AsyncClient(timeout=30) as client:
            began = time.monotonic()
            response = await client.post(
                stack.engine.webhook_url, json=notification, headers=BEARER
            )
            took = time.monotonic() - began
    finally:
        await asyncio.to_thread(stack.prefect.start)

    assert response.status_code == 503
    # Alertmanager gives a notification at least 10 s (notify.MinTimeout) before it cancels it.
    assert took < 0.8 * ALERTMANAGER_MIN_TIMEOUT, f"503 only after {took:.1f}s"
    assert await stack.engine.metric(unavailable, operation="submit") == before + 1
