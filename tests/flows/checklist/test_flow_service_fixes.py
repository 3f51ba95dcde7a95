"""Service faults the checklist fixes only on approval: a selector, a targetPort, pod restarts."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from simcluster import resources
from simcluster.cluster import SimCluster
from tests.flows.checklist_engine import AlertEpisodeRef
from tests.flows.conftest import Launch

SERVICE_DOWN = "service-down"


def _spec(cluster: SimCluster, namespace: str, name: str) -> dict[str, Any]:
    spec: dict[str, Any] = cluster.store.get(resources.SERVICES, namespace, name)["spec"]
    return spec


async def test_selector_matching_nothing_is_patched_only_once_approved(launch: Launch) -> None:
    engine = await launch("selector-mismatch")
    cluster = engine.sim.cluster
    run_id = await engine.start_run(
        runbook=SERVICE_DOWN, scope="service", namespace="shop", service="web"
    )

    paused = await engine.wait_for(run_id, paused=True)

    assert paused.name == "Suspended", paused
    assert _spec(cluster, "shop", "web")["selector"] == {"app": "web-v2"}
    [request] = engine.notifier.requested
    assert request.items[0].diff == ["  spec.selector:", "-   app: web-v2", "+   app: web"]
    await engine.answer(run_id, approve=True, reason="selector typo in the last deploy")
    done = await engine.wait_for(run_id)

    assert done.name == "Recovered", done
    assert _spec(cluster, "shop", "web")["selector"] == {"app": "web"}
    assert cluster.requests.total(verb="patch", resource="services") == 1
    report = await engine.report(run_id)
    assert "**Outcome: recovered**" in report
    assert "| approved | alice | prefect_ui |" in report


async def test_wrong_target_port_is_patched_to_the_port_the_pods_expose(launch: Launch) -> None:
    engine = await launch("wrong-target-port")
    cluster = engine.sim.cluster
    run_id = await engine.start_run(
        runbook=SERVICE_DOWN, scope="service", namespace="shop", service="checkout"
    )

    await engine.wait_for(run_id, paused=True)
    assert _spec(cluster, "shop", "checkout")["ports"][0]["targetPort"] == 8081
    [request] = engine.notifier.requested
    assert "-   targetPort: 8081" in request.items[0].diff
    await engine.answer(run_id, approve=True)
    done = await engine.wait_for(run_id)

    assert done.name == "Recovered", done
    assert _spec(cluster, "shop", "checkout")["ports"][0]["targetPort"] != 8081
    assert cluster.requests.total(verb="patch", resource="services") == 1


async def test_not_ready_app_pods_are_restarted_after_approval(launch: Launch) -> None:
    engine = await launch("app-pods-not-ready")
    cluster = engine.sim.cluster
    # The readiness failure was passing: pods that restart now come up Ready, while the old
    # ones keep failing until their (long) next probe.
    with cluster.health.lock:
        cluster.health.unready.clear()
    run_id = await engine.start_run(
        runbook=SERVICE_DOWN, scope="service", namespace="shop", service="checkout"
    )

    await engine.wait_for(run_id, paused=True)
    assert cluster.requests.total(verb="delete", resource="pods") == 0
    await engine.answer(run_id, approve=True)
    done = await engine.wait_for(run_id)

    assert done.name == "Recovered", done
    # Two pods, a budget of half of them: one restart.
    assert cluster.requests.total(verb="delete", resource="pods") == 1
    assert "Restart pod shop/checkout-" in await engine.report(run_id)


async def test_a_healthy_service_needs_no_action(launch: Launch) -> None:
    engine = await launch("healthy")
    run_id = await engine.start_run(scope="service", namespace="shop", service="web")

    done = await engine.wait_for(run_id)

    assert done.name == "NothingToDo", done
    assert engine.mutations() == 0
    assert engine.notifier.requested == []
    assert "**Outcome: nothing_to_do**" in await engine.report(run_id)


async def test_an_alert_on_a_healthy_service_ends_with_nothing_to_do_not_recovered(
    launch: Launch,
) -> None:
    engine = await launch("healthy")
    alert = AlertEpisodeRef("ServiceDown", uuid.uuid4().hex[:16], datetime.now(UTC))
    try:
        run_id = await engine.start_alert_run(
            alert, runbook=SERVICE_DOWN, scope="service", namespace="shop", service="web"
        )
        done = await engine.wait_for(run_id)
    finally:
        await engine.resolve(alert)  # later tests must not count it

    assert done.name == "NothingToDo", done
    assert engine.mutations() == 0
    report = await engine.report(run_id)
    assert "**Outcome: nothing_to_do**: nothing of warning or critical severity found" in report
    assert f"- Fingerprint: `{alert.fingerprint}`" in report
