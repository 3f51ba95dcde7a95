"""The real Alertmanager 0.25 posts alerts to the receiver over HTTP; runs are handed off once."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from integrations.alertmanager import AlertmanagerClient, fingerprint_labels
from tests.e2e.alertmanager_process import Alertmanager, find_alertmanager, running_alertmanager
from tests.e2e.prometheus_alerts import prometheus_alert
from tests.engine.memory_dispatcher import InMemoryDispatcher
from tests.engine.receiver_harness import TOKEN, Receiver, build_app
from tests.engine.served import served

BINARY = find_alertmanager()

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        BINARY is None,
        reason="the Alertmanager binary (prometheus-alertmanager) is not installed; "
        "scripts/test installs it",
    ),
]

CHECKOUT = {
    "alertname": "ServiceDown",
    "namespace": "prod",
    "service": "checkout",
    "severity": "critical",
}
DISK = {"alertname": "DiskFull", "namespace": "prod", "instance": "node-1:9100"}


@dataclass
class Stack:
    """Alertmanager posting to a receiver served by uvicorn on 127.0.0.1."""

    alertmanager: Alertmanager
    receiver: Receiver

    @property
    def dispatcher(self) -> InMemoryDispatcher:
        return self.receiver.dispatcher


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    assert BINARY is not None
    parts = build_app()
    with (
        served(parts.app) as receiver_url,
        running_alertmanager(
            tmp_path, webhook_url=f"{receiver_url}/alertmanager", token=TOKEN, binary=BINARY
        ) as alertmanager,
    ):
        yield Stack(alertmanager=alertmanager, receiver=parts)


async def _eventually(
    condition: Callable[[], bool], stack: Stack, *, what: str, within: float = 20.0
) -> None:
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(
                f"{what} within {within:g}s; Alertmanager log:\n{stack.alertmanager.log_tail()}"
            )
        await asyncio.sleep(0.05)


async def test_alertmanager_fires_and_resolves_through_the_receiver(stack: Stack) -> None:
    starts_at = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=30)
    fingerprint = fingerprint_labels(CHECKOUT)

    stack.alertmanager.post_alerts(
        [
            prometheus_alert(CHECKOUT, starts_at=starts_at),
            prometheus_alert(DISK, starts_at=starts_at),
        ]
    )

    await _eventually(lambda: bool(stack.dispatcher.submitted), stack, what="no run was submitted")
    await _eventually(
        lambda: (
            stack.receiver.metric("runbooks_receiver_unmatched_alerts_total", reason="no_runbook")
            == 1
        ),
        stack,
        what="the DiskFull alert was not counted unmatched",
    )
    [request] = stack.dispatcher.submitted
    assert request.runbook == "service-down"
    assert request.labels == CHECKOUT
    assert request.alert_fingerprint == fingerprint
    assert request.alert_starts_at == starts_at
    assert request.parameters == {
        "scope": "service",
        "namespace": "prod",
        "service": "checkout",
        "alertname": "ServiceDown",
        "alert_fingerprint": fingerprint,
        "alert_starts_at": starts_at.isoformat(),
    }
    async with AlertmanagerClient(stack.alertmanager.url) as client:
        assert await client.is_firing(fingerprint, labels={"alertname": "ServiceDown"})
        listed = await client.alerts(filter=['alertname="ServiceDown"'])
        assert [alert.fingerprint for alert in listed] == [fingerprint]
        assert listed[0].status.state == "active"

        ends_at = datetime.now(UTC) - timedelta(seconds=1)
        stack.alertmanager.post_alerts(
            [prometheus_alert(CHECKOUT, starts_at=starts_at, ends_at=ends_at)]
        )

        await _eventually(lambda: bool(stack.dispatcher.resolved), stack, what="no resolve arrived")
        [resolved] = stack.dispatcher.resolved
        assert resolved.alert_fingerprint == fingerprint
        assert resolved.alert_starts_at == starts_at
        assert resolved.alertname == "ServiceDown"
        assert await client.is_firing(fingerprint) is False
    assert stack.receiver.metric("runbooks_receiver_resolved_runs_total") == 1
    assert len(stack.dispatcher.runs) == 1
    # Alertmanager read the bearer token from its credentials_file: nothing was refused.
    assert (
        stack.receiver.metric("runbooks_receiver_rejected_requests_total", reason="unauthorized")
        == 0
    )


async def test_alertmanager_retries_while_prefect_is_down_and_the_run_is_created_once(
    stack: Stack,
) -> None:
    stack.dispatcher.unavailable = True
    stack.alertmanager.post_alerts(
        [prometheus_alert(CHECKOUT, starts_at=datetime.now(UTC) - timedelta(seconds=5))]
    )

    await _eventually(
        lambda: (
            stack.receiver.metric("runbooks_receiver_handoff_unavailable_total", operation="submit")
            >= 1
        ),
        stack,
        what="the receiver never answered 503",
    )
    stack.dispatcher.unavailable = False

    await _eventually(lambda: bool(stack.dispatcher.runs), stack, what="Alertmanager never retried")
    await asyncio.sleep(2.5)  # two more group intervals: the repeats must not add a run
    assert len(stack.dispatcher.runs) == 1
    assert (
        stack.receiver.metric("runbooks_receiver_runs_created_total", runbook="service-down") == 1
    )
