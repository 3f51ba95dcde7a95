"""The whole alert path with the real parts: Alertmanager -> engine -> Prefect -> flow -> cluster.

One Prefect server (SQLite), one simulated cluster and one engine (``assemble_engine`` served by
uvicorn, warm executor included) serve the module; each test gets its own Alertmanager, so the
notifications a test sees are its own. Alertmanager re-sends every firing group every couple of
seconds (a short repeat_interval), so every test also checks that redelivery adds no run.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.objects import FlowRun

from engine.alert_record import AlertResolution, resolution_variable_name
from engine.firing import build_notification
from engine.prefect_server import PrefectServer
from flows.checklist.flow import DEPLOYMENT_NAME, FLOW_NAME
from integrations.alertmanager import fingerprint_labels
from simcluster.manifests import service
from simcluster.server import SimServer
from tests.e2e.alertmanager_process import Alertmanager, find_alertmanager, running_alertmanager
from tests.e2e.flow_runs import runs_of_alert, wait_for_runs, wait_until_final
from tests.e2e.prefect_environment import local_prefect
from tests.e2e.prometheus_alerts import prometheus_alert
from tests.e2e.served_engine import BEARER, TOKEN, ServedEngine, simulated_access

BINARY = find_alertmanager()

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.timeout(180),
    pytest.mark.skipif(
        BINARY is None,
        reason="the Alertmanager binary (prometheus-alertmanager) is not installed; "
        "scripts/test installs it",
    ),
]

CHECKLIST = f"{FLOW_NAME}/{DEPLOYMENT_NAME}"
REPEAT_SECONDS = 2
#: Alertmanager cancels a notification after max(group_interval, 10 s) (notify.MinTimeout).
ALERTMANAGER_MIN_TIMEOUT = 10.0
#: Fast groups, and a repeat of every firing group every couple of seconds: redelivery.
MUTATING_VERBS = ("create", "update", "patch", "delete", "deletecollection")
ROUTE = {"group_wait": "1s", "group_interval": "1s", "repeat_interval": f"{REPEAT_SECONDS}s"}


#: A runbook's cooldown holds back a second episode on the same target for minutes, so each
#: test alerts on a Service of its own: healthy copies of shop/web and shop/checkout.
CASE_SERVICES = {
    "checkout-redelivery": "checkout",
    "web-resolve": "web",
    "checkout-restart": "checkout",
    "web-outage": "web",
    "web-prompt": "web",
}
HTTP_PORTS = [{"name": "http", "port": 80, "protocol": "TCP", "targetPort": "http"}]


@dataclass(frozen=True)
class Stack:
    """The module's long-lived parts."""

    prefect: PrefectServer
    engine: ServedEngine
    sim: SimServer

    @property
    def checklist_id(self) -> UUID:
        return self.engine.deployment_ids[CHECKLIST]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    workdir = tmp_path_factory.mktemp("alert-path")
    with ExitStack() as parts:
        prefect = parts.enter_context(local_prefect(workdir / "prefect"))
        sim = parts.enter_context(SimServer())
        for name, app in CASE_SERVICES.items():
            sim.cluster.create(service("shop", name, ports=HTTP_PORTS, selector={"app": app}))
        sim.cluster.settle()
        kubeconfig = sim.write_kubeconfig(workdir / "engine.kubeconfig", user="engine")
        engine = ServedEngine(access=simulated_access(kubeconfig))
        engine.start()
        parts.callback(engine.stop)
        yield Stack(prefect=prefect, engine=engine, sim=sim)


@pytest.fixture
def alertmanager(stack: Stack, tmp_path: Path) -> Iterator[Alertmanager]:
    assert BINARY is not None
    with running_alertmanager(
        tmp_path, webhook_url=stack.engine.webhook_url, token=TOKEN, binary=BINARY, route=ROUTE
    ) as running:
        yield running


def service_down(service: str) -> dict[str, str]:
    """A ServiceDown alert's labels for Service shop/<service>."""
    return {
        "alertname": "ServiceDown",
        "namespace": "shop",
        "service": service,
        "severity": "critical",
    }


def just_now() -> datetime:
    """A startsAt a moment ago, as Prometheus sends for an alert that just fired."""
    return datetime.now(UTC) - timedelta(seconds=5)


async def eventually(
    condition: Callable[[], Awaitable[bool]],
    *,
    what: str,
    alertmanager: Alertmanager,
    within: float = 30.0,
) -> None:
    """Wait until ``condition`` holds; fail with Alertmanager's log after ``within`` seconds."""
    deadline = time.monotonic() + within
    while not await condition():
        if time.monotonic() > deadline:
            pytest.fail(f"{what} within {within:g}s; Alertmanager log:\n{alertmanager.log_tail()}")
        await asyncio.sleep(0.1)


def outcome(run: FlowRun) -> str:
    """A run's final state: its type and the checklist's outcome message."""
    state = run.state
    return f"{state.type.value}: {state.message}" if state is not None else "no state"


def mutations(sim: SimServer) -> int:
    """Mutating Kubernetes API requests the simulated cluster has served so far."""
    return sum(sim.cluster.requests.total(verb=verb) for verb in MUTATING_VERBS)


async def the_only_run(stack: Stack, fingerprint: str) -> FlowRun:
    """The alert's single run, after a few more deliveries had the chance to add another."""
    async with get_client() as client:
        await wait_for_runs(client, stack.checklist_id, [fingerprint])
        await asyncio.sleep(2 * REPEAT_SECONDS + 1)
        runs = await runs_of_alert(client, stack.checklist_id, fingerprint)
        assert len(runs) == 1, [run.id for run in runs]
        [final] = await wait_until_final(client, [runs[0].id])
    return final


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
