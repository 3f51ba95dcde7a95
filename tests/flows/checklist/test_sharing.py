"""Shared changes: a plan that restarts kube-proxy is an incident's; a joining run keeps its own."""

from __future__ import annotations

from dataclasses import replace

from flows.checklist import (
    CreateEmergencyNodePort,
    Observation,
    PatchServiceSelector,
    PatchServiceTargetPort,
    Plan,
    RestartAppPod,
    RestartKubeProxyPod,
    VerifyKubeProxyReady,
    VerifyServiceEndpoints,
)
from flows.checklist.sharing import cause, left_to_owner, shared_object
from runbooks.model import SharedObject
from tests.flows.checklist.builders import (
    IPTABLES_ERROR,
    crash_looping,
    healthy,
    kube_proxy,
    plan_for,
    pod,
    proxy,
    service,
)

OWNED = (RestartKubeProxyPod, CreateEmergencyNodePort, VerifyKubeProxyReady)


def kube_proxy_down_on(*broken: str, node_count: int = 3) -> Observation:
    """``shop/web`` healthy but for kube-proxy crash-looping on the `broken` nodes."""
    by_node = {name: proxy(name, crash=True) for name in broken}
    return replace(healthy(node_count), kube_proxy=kube_proxy(node_count, broken=by_node))


def service_faults(observation: Observation) -> Observation:
    """`observation` with the Service's own faults too: a wrong targetPort, a crash-looping pod."""
    return replace(
        observation, service=service(target_port=9090), pods=(pod("web-1"), crash_looping("web-2"))
    )


def selector_fault(observation: Observation) -> Observation:
    """`observation` with a Service selector that nearly matches the pods (``app=web-v2``)."""
    return replace(
        observation,
        service=service(selector={"app": "web-v2"}),
        pods=(),
        namespace_pods=(pod("web-1"), pod("web-2")),
    )


def kinds(plan: Plan) -> list[type]:
    return [type(step) for step in plan.actions]


def test_a_plan_that_restarts_kube_proxy_changes_the_shared_kube_proxy() -> None:
    plan = plan_for(kube_proxy_down_on("node-2"))

    assert shared_object(plan) is SharedObject.KUBE_PROXY


def test_a_plan_for_the_service_alone_changes_nothing_shared() -> None:
    plan = plan_for(service_faults(healthy()))

    assert plan.mutations
    assert shared_object(plan) is None


def test_an_empty_plan_changes_nothing_shared() -> None:
    assert shared_object(plan_for(healthy())) is None


def test_the_cause_names_the_nodes_to_restart_sorted_whatever_their_restart_order() -> None:
    broken = {
        "node-1": proxy("node-1", errors=(IPTABLES_ERROR,)),
        "node-3": proxy("node-3", crash=True),
    }
    plan = plan_for(replace(healthy(10), kube_proxy=kube_proxy(10, broken=broken)))
    assert [step.node for step in plan.mutations if isinstance(step, RestartKubeProxyPod)] == [
        "node-3",
        "node-1",
    ]

    assert cause(plan) == "kube-proxy needs a restart on 2 node(s): node-1, node-3"


def test_the_cause_counts_the_nodes_deferred_beyond_the_budget() -> None:
    plan = plan_for(kube_proxy_down_on("node-1", "node-3", "node-7", "node-9", node_count=10))

    assert plan.deferred_nodes == ("node-7", "node-9")
    assert cause(plan) == (
        "kube-proxy needs a restart on 2 node(s): node-1, node-3 (2 more deferred)"
    )


def test_a_joining_run_leaves_kube_proxy_and_the_emergency_nodeport_to_the_owner() -> None:
    plan = plan_for(service_faults(kube_proxy_down_on("node-2")))
    assert {RestartKubeProxyPod, CreateEmergencyNodePort, VerifyKubeProxyReady} <= set(kinds(plan))

    kept = left_to_owner(plan)

    assert not [step for step in kept.actions if isinstance(step, OWNED)]
    assert kept.actions == tuple(step for step in plan.actions if not isinstance(step, OWNED))
    assert {RestartAppPod, PatchServiceTargetPort, VerifyServiceEndpoints} <= set(kinds(kept))
    assert shared_object(kept) is None


def test_a_joining_run_keeps_its_selector_fix_and_endpoint_check() -> None:
    plan = plan_for(selector_fault(kube_proxy_down_on("node-2")))

    kept = left_to_owner(plan)

    (patch,) = [step for step in kept.actions if isinstance(step, PatchServiceSelector)]
    assert (dict(patch.before), dict(patch.after)) == ({"app": "web-v2"}, {"app": "web"})
    assert VerifyServiceEndpoints in kinds(kept)
    assert not [step for step in kept.actions if isinstance(step, OWNED)]


def test_a_joining_run_leaves_the_deferred_nodes_and_restart_budget_to_the_owner() -> None:
    plan = plan_for(
        service_faults(kube_proxy_down_on("node-1", "node-3", "node-7", "node-9", node_count=10))
    )
    assert plan.deferred_nodes
    assert plan.restart_budget is not None

    kept = left_to_owner(plan)

    assert kept.deferred_nodes == ()
    assert kept.restart_budget is None
    assert kept.notes == plan.notes
    assert [type(step) for step in kept.mutations] == [RestartAppPod, PatchServiceTargetPort]


def test_a_plan_with_nothing_shared_is_left_as_it_is() -> None:
    plan = plan_for(service_faults(healthy()))

    assert left_to_owner(plan) == plan
