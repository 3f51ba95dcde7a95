"""Planning for one Service: fallback access, pod restarts, exact patches, never guessing."""

from __future__ import annotations

from dataclasses import replace

import pytest

from flows.checklist import (
    EMERGENCY_LABEL,
    ContainerPortState,
    CreateEmergencyNodePort,
    EndpointState,
    NoteKind,
    Observation,
    PatchServiceSelector,
    PatchServiceTargetPort,
    Phase,
    PodState,
    RestartAppPod,
    RestartKubeProxyPod,
    VerifyAlertResolved,
    VerifyKubeProxyReady,
    VerifyServiceEndpoints,
)
from flows.checklist.actions import PHASE_ORDER
from flows.checklist.verification import VerifyServiceConnectivity, VerifyTargetPort
from tests.flows.checklist.builders import (
    HTTP,
    crash_looping,
    failing_readiness,
    healthy,
    kube_proxy,
    parameters,
    plan_for,
    pod,
    proxy,
    service,
    unschedulable,
    workload,
)


def test_kube_proxy_down_with_ready_pods_mitigates_then_verifies() -> None:
    observation = replace(
        healthy(), kube_proxy=kube_proxy(3, broken={"node-2": proxy("node-2", crash=True)})
    )
    params = parameters(alertname="ServiceDown", alert_fingerprint="fp1")

    result = plan_for(observation, params)

    assert [type(a) for a in result.actions] == [
        RestartKubeProxyPod,
        CreateEmergencyNodePort,
        VerifyServiceEndpoints,
        VerifyKubeProxyReady,
        VerifyAlertResolved,
    ]
    assert [a.needs_approval for a in result.actions] == [True, True, False, False, False]
    assert result.mutations == result.actions[:2]
    (direct,) = [n for n in result.notes if n.kind is NoteKind.DIRECT_POD_ACCESS]
    assert direct.details == ("web-1: 10.244.0.1:8080/TCP", "web-2: 10.244.0.2:8080/TCP")


def test_the_emergency_service_copies_selector_and_ports_and_is_labelled() -> None:
    observation = replace(
        healthy(), kube_proxy=kube_proxy(3, broken={"node-2": proxy("node-2", crash=True)})
    )

    actions = plan_for(observation).actions
    (emergency,) = [a for a in actions if isinstance(a, CreateEmergencyNodePort)]

    assert emergency.manifest() == {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {
            "name": "web-emergency",
            "namespace": "shop",
            "labels": {EMERGENCY_LABEL: "true"},
            "annotations": {"service-runbooks.io/emergency-for": "web"},
        },
        "spec": {
            "type": "NodePort",
            "selector": {"app": "web"},
            "ports": [{"name": "http", "protocol": "TCP", "port": 80, "targetPort": "http"}],
        },
    }


FALLBACK_NOTES = {NoteKind.ALREADY_IN_PLACE, NoteKind.DIRECT_POD_ACCESS}


@pytest.mark.parametrize(
    ("observation", "notes"),
    [
        pytest.param(
            replace(healthy(), service=service(type="NodePort")),
            FALLBACK_NOTES,
            id="already a NodePort Service",
        ),
        pytest.param(
            replace(healthy(), emergency_service=replace(service(), name="web-emergency")),
            FALLBACK_NOTES,
            id="emergency Service exists",
        ),
        pytest.param(
            replace(healthy(), pods=(crash_looping("web-1"),)),
            set(),
            id="no ready pod to expose",
        ),
    ],
)
def test_no_emergency_nodeport_when_it_would_not_help_or_exists(
    observation: Observation, notes: set[NoteKind]
) -> None:
    broken = replace(
        observation, kube_proxy=kube_proxy(3, broken={"node-1": proxy("node-1", crash=True)})
    )

    result = plan_for(broken)

    assert not [a for a in result.actions if isinstance(a, CreateEmergencyNodePort)]
    assert {n.kind for n in result.notes} & FALLBACK_NOTES == notes


def test_app_pod_restarts_keep_to_half_the_pods_and_to_controlled_pods() -> None:
    pods = (
        crash_looping("web-1", restarts=3),
        crash_looping("web-2", restarts=9),
        failing_readiness("web-3"),
        crash_looping("web-4", owner=None),
        pod("web-5", ready=False, phase="Pending"),
        pod("web-6"),
    )

    result = plan_for(replace(healthy(), pods=pods))

    restarts = [a.pod for a in result.actions if isinstance(a, RestartAppPod)]
    assert restarts == ["web-2", "web-1", "web-3"]
    texts = {n.text: n.details for n in result.notes}
    assert texts["Pods without a controller are not deleted (nothing would recreate them)"] == (
        "web-4",
    )
    assert texts["Pods a restart would not help (scheduling, image, termination)"] == (
        "web-5: Pending",
    )


def test_app_pod_restarts_over_budget_are_deferred() -> None:
    pods = tuple(crash_looping(f"web-{i}") for i in range(1, 5))

    result = plan_for(replace(healthy(), pods=pods))

    assert len([a for a in result.actions if isinstance(a, RestartAppPod)]) == 2
    (deferred,) = [n for n in result.notes if n.kind is NoteKind.DEFERRED]
    assert deferred.details == ("web-3", "web-4")


def selector_scene(*namespace_pods: PodState) -> Observation:
    return replace(
        healthy(),
        service=service(selector={"app": "web-v2"}),
        pods=(),
        namespace_pods=namespace_pods,
    )


def test_a_selector_that_nearly_matches_one_label_set_is_patched_exactly() -> None:
    observation = selector_scene(pod("web-1"), pod("web-2"), pod("db-1", labels={"app": "db"}))

    result = plan_for(observation)

    (patch,) = [a for a in result.actions if isinstance(a, PatchServiceSelector)]
    assert (dict(patch.before), dict(patch.after)) == ({"app": "web-v2"}, {"app": "web"})
    assert patch.diff() == ("  spec.selector:", "-   app: web-v2", "+   app: web")
    assert patch.needs_approval is True


def test_an_ambiguous_selector_is_left_to_a_human_with_the_candidates() -> None:
    observation = selector_scene(pod("web-1"), pod("web-v3-1", labels={"app": "web-v3"}))

    result = plan_for(observation)

    assert not [a for a in result.actions if isinstance(a, PatchServiceSelector)]
    (manual,) = [n for n in result.notes if n.kind is NoteKind.MANUAL_ACTION]
    assert manual.details == ("app=web (web-1)", "app=web-v3 (web-v3-1)")


@pytest.mark.parametrize(
    ("target", "ports", "after"),
    [
        pytest.param("web", (HTTP,), "http", id="named -> the one port's name"),
        pytest.param(8081, (HTTP,), 8080, id="number -> the one port's number"),
        pytest.param("web", (ContainerPortState(number=8080),), 8080, id="unnamed port"),
    ],
)
def test_a_target_port_no_pod_serves_is_patched_to_the_one_exposed_port(
    target: int | str, ports: tuple[ContainerPortState, ...], after: int | str
) -> None:
    observation = replace(
        healthy(),
        service=service(target_port=target),
        pods=(pod("web-1", ports=ports), pod("web-2", ports=ports)),
    )

    (patch,) = [a for a in plan_for(observation).actions if isinstance(a, PatchServiceTargetPort)]

    assert (patch.before, patch.after) == (target, after)


def test_a_target_port_with_several_candidates_is_left_to_a_human() -> None:
    ports = (HTTP, ContainerPortState(number=9090, name="metrics"))
    observation = replace(
        healthy(), service=service(target_port="web"), pods=(pod("web-1", ports=ports),)
    )

    result = plan_for(observation)

    assert not [a for a in result.actions if isinstance(a, PatchServiceTargetPort)]
    (manual,) = [n for n in result.notes if n.kind is NoteKind.MANUAL_ACTION]
    assert manual.details == ("http:8080", "metrics:9090")


def test_every_plan_runs_its_phases_in_order_and_verifies_last() -> None:
    observation = replace(
        selector_scene(pod("web-1")),
        kube_proxy=kube_proxy(3, broken={"node-2": proxy("node-2", crash=True)}),
    )

    result = plan_for(observation)

    phases = [a.phase for a in result.actions]
    assert phases == sorted(phases, key=PHASE_ORDER.index)
    assert phases[0] is Phase.MITIGATE
    assert phases[-1] is Phase.VERIFY


def test_a_missing_service_is_a_manual_fix_verified_afterwards() -> None:
    result = plan_for(replace(healthy(), service=None, pods=(), endpoints=None))

    assert result.actions == ()
    (manual,) = result.notes
    assert manual.kind is NoteKind.MANUAL_ACTION
    assert manual.details == ("shop/web",)


def test_many_services_alerting_asks_to_look_beyond_kube_proxy() -> None:
    result = plan_for(replace(healthy(), other_alerts_firing=4))

    (note,) = result.notes
    assert (note.kind, note.phase) == (NoteKind.MANUAL_ACTION, Phase.SCOPE)
    assert "check the CNI pods" in note.text
    assert [type(a) for a in result.actions] == [VerifyServiceEndpoints]


def test_a_workload_scaled_to_zero_gets_advice_and_no_step() -> None:
    observation = replace(
        healthy(),
        pods=(),
        endpoints=EndpointState(),
        namespace_pods=(pod("web-canary-1", labels={"app": "web-canary"}),),
        workloads=(workload(0),),
    )

    planned = plan_for(observation)

    assert planned.actions == ()
    [advice] = [n for n in planned.notes if n.kind is NoteKind.MANUAL_ACTION]
    assert advice.text.startswith("Nothing is wrong with the Service: if it should serve, scale")
    assert advice.details == ("shop/deployment/web",)


def test_pods_a_rollout_is_still_starting_are_not_restarted() -> None:
    observation = replace(
        healthy(),
        pods=(pod("web-1", ready=False), pod("web-2", ready=False)),
        endpoints=EndpointState(),
        workloads=(workload(2, updated=1, generation=3, observed=3),),
    )

    planned = plan_for(observation)

    assert not [a for a in planned.actions if isinstance(a, RestartAppPod)]
    assert any(n.text.startswith("Let the rollout finish") for n in planned.notes)


def test_a_run_that_kube_proxy_restarts_does_not_wait_for_endpoints_no_node_has_room_for() -> None:
    observation = replace(
        healthy(),
        pods=(unschedulable("web-1"),),
        endpoints=EndpointState(),
        kube_proxy=kube_proxy(3, broken={"node-2": proxy("node-2", crash=True)}),
    )

    planned = plan_for(observation)

    assert any(isinstance(a, RestartKubeProxyPod) for a in planned.actions)
    assert not [a for a in planned.actions if isinstance(a, VerifyServiceEndpoints)]


def test_a_target_port_fix_is_verified_by_the_declared_port_and_a_connect_not_by_endpoints() -> (
    None
):
    observation = replace(healthy(), service=service(target_port=9999))

    planned = plan_for(observation)

    verify = [a for a in planned.actions if a.phase is Phase.VERIFY]
    assert [type(a).__name__ for a in verify] == [
        "VerifyServiceEndpoints",
        "VerifyTargetPort",
        "VerifyServiceConnectivity",
    ]
    target_port = verify[1]
    assert isinstance(target_port, VerifyTargetPort)
    assert (target_port.port, target_port.target_port) == (80, 8080)


def test_a_selector_fix_is_verified_by_a_connect_to_each_tcp_port() -> None:
    observation = replace(
        healthy(),
        service=service(selector={"app": "web-v2"}),
        pods=(),
        namespace_pods=healthy().pods,
    )

    planned = plan_for(observation)

    [connect] = [a for a in planned.actions if isinstance(a, VerifyServiceConnectivity)]
    assert connect.port == 80
