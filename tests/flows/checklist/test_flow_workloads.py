"""A Service down for a reason outside the run's reach: it says why, proposes nothing, and does
not end Failed (its workload scaled to zero, its pods with no room on any node)."""

from __future__ import annotations

import time

from tests.flows.conftest import Launch
from tests.flows.operator import operator

SERVICE_DOWN = "service-down"
WEB_IMAGE = "registry.example.com/shop/web:1.4.2"


async def test_a_deployment_scaled_to_zero_is_not_taken_for_a_selector_fault(
    launch: Launch,
) -> None:
    engine = await launch("healthy")
    cluster = engine.sim.cluster
    with operator(engine) as kubectl:
        # Sibling apps whose labels nearly match app=web: the old diagnosis offered them.
        kubectl.create_deployment("shop", "web-canary", image=WEB_IMAGE, replicas=1)
        kubectl.create_deployment("shop", "web-admin", image=WEB_IMAGE, replicas=1)
        kubectl.scale("deployment", "shop", "web", replicas=0)
    cluster.settle()
    mutations = engine.mutations()
    started = time.monotonic()

    run_id = await engine.start_run(
        runbook=SERVICE_DOWN, scope="service", namespace="shop", service="web"
    )
    done = await engine.wait_for(run_id)

    assert done.name == "ScaledToZero", done
    assert done.is_completed()
    assert time.monotonic() - started < 30  # no verification timeout waited out
    assert engine.mutations() == mutations
    assert engine.notifier.requested == []
    report = await engine.report(run_id)
    assert (
        "**Outcome: scaled_to_zero**: Deployment shop/web is scaled to 0 replicas: the "
        "Service's selector is right, and there is no pod to select; nothing for this run to "
        "change"
    ) in report
    assert "- **warning** `workload_scaled_to_zero` shop/deployment/web:" in report
    assert "  - Deployment web: spec.replicas 0, 0 pod(s), 0 Ready" in report
    assert "Nothing is wrong with the Service: if it should serve, scale its workload up" in report
    assert "selector_matches_no_pods" not in report
    assert "pick one by hand" not in report


async def test_pods_no_node_has_room_for_are_reported_as_such_and_not_restarted(
    launch: Launch,
) -> None:
    engine = await launch("healthy")
    cluster = engine.sim.cluster
    with operator(engine) as kubectl:
        kubectl.create_deployment(
            "shop", "report", image=WEB_IMAGE, replicas=2, requests={"cpu": "16"}
        )
        kubectl.expose("shop", "report")
    cluster.settle()

    run_id = await engine.start_run(
        runbook=SERVICE_DOWN, scope="service", namespace="shop", service="report"
    )
    done = await engine.wait_for(run_id)

    assert done.name == "PodsUnschedulable", done
    assert done.is_completed()
    assert cluster.requests.total(verb="delete", resource="pods") == 0
    report = await engine.report(run_id)
    assert "- **critical** `pods_unschedulable` shop/report: 2 of 2 selected pod(s)" in report
    assert "unschedulable (0/5 nodes are available: 5 Insufficient cpu.)" in report
    assert "Give the pods room: add nodes or free capacity" in report
