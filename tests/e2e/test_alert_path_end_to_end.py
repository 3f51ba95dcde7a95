"""The whole alert path with the real parts: Alertmanager -> engine -> Prefect -> flow -> cluster.

One Prefect server (SQLite), one simulated cluster and one engine (``assemble_engine`` served by
uvicorn, warm executor included) serve the package (`conftest.py`); each test gets its own
Alertmanager, so the notifications a test sees are its own. Alertmanager re-sends every firing
group every couple of seconds (a short repeat_interval), so every test also checks that
redelivery adds no run.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from prefect.client.orchestration import get_client

from engine.dispatch.alert_record import AlertResolution
from flows.run_identity import resolution_variable_name
from integrations.alertmanager import fingerprint_labels
from tests.e2e.alert_stack import (
    E2E_MARKS,
    REPEAT_SECONDS,
    Stack,
    eventually,
    just_now,
    mutations,
    outcome,
    service_down,
    the_only_run,
)
from tests.e2e.alertmanager_process import Alertmanager
from tests.e2e.flow_runs import runs_of_alert, wait_for_runs, wait_until_final
from tests.e2e.prometheus_alerts import prometheus_alert

pytestmark = E2E_MARKS


async def test_alerts_through_alertmanager_become_exactly_the_expected_checklist_runs(
    stack: Stack, alertmanager: Alertmanager
) -> None:
    web, checkout = service_down("web"), service_down("checkout")
    proxy = {"alertname": "KubeProxyDown", "job": "kube-proxy", "severity": "critical"}
    disk = {"alertname": "NodeDiskFull", "instance": "node-1:9100", "severity": "warning"}
    starts_at = just_now()
    targets: list[tuple[dict[str, str], dict[str, Any]]] = [
        (web, {"scope": "service", "namespace": "shop", "service": "web"}),
        (checkout, {"scope": "service", "namespace": "shop", "service": "checkout"}),
        (proxy, {"scope": "cluster"}),
    ]
    # Each run also receives the identity of the alert that started it.
    expected = {
        fingerprint_labels(labels): {
            **scope,
            "alertname": labels["alertname"],
            "alert_fingerprint": fingerprint_labels(labels),
            "alert_starts_at": starts_at.isoformat(),
        }
        for labels, scope in targets
    }
    unmatched = "runbooks_receiver_unmatched_alerts_total"
    unmatched_before = await stack.engine.metric(unmatched, reason="no_runbook")
    mutations_before = mutations(stack.sim)

    alertmanager.post_alerts(
        [prometheus_alert(labels, starts_at=starts_at) for labels in (web, checkout, proxy, disk)]
    )

    async def disk_counted() -> bool:
        return await stack.engine.metric(unmatched, reason="no_runbook") == unmatched_before + 1

    await eventually(
        disk_counted, what="the unknown alert was not counted", alertmanager=alertmanager
    )
    async with get_client() as client:
        found = await wait_for_runs(client, stack.checklist_id, expected)
        await asyncio.sleep(2 * REPEAT_SECONDS + 1)  # redeliveries must not add runs
        found = {fp: await runs_of_alert(client, stack.checklist_id, fp) for fp in expected}
        assert {fp: [run.parameters for run in runs] for fp, runs in found.items()} == {
            fp: [parameters] for fp, parameters in expected.items()
        }
        assert await runs_of_alert(client, stack.checklist_id, fingerprint_labels(disk)) == []
        finals = await wait_until_final(client, [runs[0].id for runs in found.values()])
    # A healthy cluster: the checklists complete and change nothing. (They may end "recovered"
    # rather than "nothing_to_do": several ServiceDown alerts firing at once, as the receiver's
    # record counts them, are a warning-level scope finding that only verification steps follow.)
    assert [outcome(run).split(":")[0] for run in finals] == ["COMPLETED"] * 3, finals
    assert mutations(stack.sim) == mutations_before
    for fingerprint, runs in found.items():
        assert f"fingerprint:{fingerprint}" in runs[0].tags
        assert any(tag.startswith("episode:") for tag in runs[0].tags)


async def test_redelivered_alerts_find_their_run_instead_of_starting_another(
    stack: Stack, alertmanager: Alertmanager
) -> None:
    labels = service_down("checkout-redelivery")
    alert = prometheus_alert(labels, starts_at=just_now())
    duplicates, created = (
        "runbooks_receiver_duplicates_suppressed_total",
        "runbooks_receiver_runs_created_total",
    )
    before = await stack.engine.metric(duplicates, runbook="service-down")
    created_before = await stack.engine.metric(created, runbook="service-down")

    alertmanager.post_alerts([alert])
    async with get_client() as client:
        await wait_for_runs(client, stack.checklist_id, [fingerprint_labels(labels)])
    alertmanager.post_alerts([alert])  # Prometheus re-sends firing alerts every evaluation

    async def redelivered_twice() -> bool:
        return await stack.engine.metric(duplicates, runbook="service-down") >= before + 2

    await eventually(redelivered_twice, what="no two redeliveries", alertmanager=alertmanager)
    run = await the_only_run(stack, fingerprint_labels(labels))
    assert outcome(run).startswith("COMPLETED: "), outcome(run)
    assert await stack.engine.metric(created, runbook="service-down") == created_before + 1


async def test_a_resolve_is_recorded_and_counted(stack: Stack, alertmanager: Alertmanager) -> None:
    labels = service_down("web-resolve")
    fingerprint, starts_at = fingerprint_labels(labels), just_now()
    resolved = "runbooks_receiver_alerts_total"
    before = await stack.engine.metric(resolved, status="resolved", alertname="ServiceDown")
    alertmanager.post_alerts([prometheus_alert(labels, starts_at=starts_at)])
    run = await the_only_run(stack, fingerprint)

    ends_at = datetime.now(UTC) - timedelta(seconds=1)
    alertmanager.post_alerts([prometheus_alert(labels, starts_at=starts_at, ends_at=ends_at)])

    async def counted() -> bool:
        now = await stack.engine.metric(resolved, status="resolved", alertname="ServiceDown")
        return now >= before + 1

    await eventually(counted, what="the resolve was not counted", alertmanager=alertmanager)
    async with get_client() as client:
        variable = await client.read_variable_by_name(
            resolution_variable_name(fingerprint, starts_at)
        )
        assert variable is not None, "the receiver did not record the resolution"
        assert AlertResolution.model_validate(variable.value) == AlertResolution(
            alertname="ServiceDown", fingerprint=fingerprint, starts_at=starts_at, ends_at=ends_at
        )
        assert await runs_of_alert(client, stack.checklist_id, fingerprint) == [run]
