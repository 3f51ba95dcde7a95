"""Reading the simulated cluster through the official client into the adapter's views."""

from __future__ import annotations

import pytest

from integrations.kubernetes import Kube, NotFound
from tests.integrations.kubernetes.polling import eventually

KUBE_PROXY = {"k8s-app": "kube-proxy"}


def test_every_node_runs_one_kube_proxy_pod_owned_by_the_daemon_set(admin_kube: Kube) -> None:
    nodes = {node.meta.name for node in admin_kube.list_nodes()}
    daemon_set = admin_kube.get_daemon_set("kube-proxy", "kube-system")

    pods = admin_kube.list_pods("kube-system", label_selector=KUBE_PROXY)

    assert nodes
    assert sorted(pod.node_name or "" for pod in pods) == sorted(nodes)
    for pod in pods:
        assert pod.meta.labels["k8s-app"] == "kube-proxy"
        controller = pod.meta.controller
        assert controller is not None
        assert (controller.kind, controller.uid) == ("DaemonSet", daemon_set.meta.uid)


def test_pods_can_be_selected_by_node(admin_kube: Kube) -> None:
    node = admin_kube.list_nodes()[0].meta.name

    pods = admin_kube.list_pods(
        "kube-system", label_selector="k8s-app=kube-proxy", field_selector=f"spec.nodeName={node}"
    )

    assert [pod.node_name for pod in pods] == [node]


def test_kube_proxy_pods_become_running_and_ready(admin_kube: Kube) -> None:
    def all_ready() -> list[str] | None:
        pods = admin_kube.list_pods("kube-system", label_selector=KUBE_PROXY)
        ready = [p.meta.name for p in pods if p.ready and p.phase == "Running" and p.pod_ip]
        return ready if pods and len(ready) == len(pods) else None

    assert eventually(all_ready, what="kube-proxy pods to be Ready")


def test_pods_in_all_namespaces_include_kube_system(admin_kube: Kube) -> None:
    namespaces = {pod.meta.namespace for pod in admin_kube.list_pods()}

    assert "kube-system" in namespaces


def test_nodes_are_ready_and_addressable(admin_kube: Kube) -> None:
    nodes = admin_kube.list_nodes()

    assert all(node.ready for node in nodes)
    assert all(node.internal_ip for node in nodes)
    assert admin_kube.get_node(nodes[0].meta.name).meta.uid == nodes[0].meta.uid


def test_kube_proxy_daemon_set_and_its_revisions(admin_kube: Kube) -> None:
    daemon_set = admin_kube.get_daemon_set("kube-proxy", "kube-system")

    revisions = admin_kube.list_daemon_set_revisions(daemon_set)

    assert daemon_set.selector == KUBE_PROXY
    assert any("kube-proxy" in image for image in daemon_set.images)
    assert daemon_set.update_strategy.type in {"RollingUpdate", "OnDelete"}
    assert revisions
    assert [r.revision for r in revisions] == sorted({r.revision for r in revisions})
    assert "spec" in revisions[-1].data
    listed = admin_kube.list_daemon_sets("kube-system", label_selector=KUBE_PROXY)
    assert [d.meta.uid for d in listed] == [daemon_set.meta.uid]


def test_kube_proxy_config_map_holds_its_configuration(admin_kube: Kube) -> None:
    config_map = admin_kube.get_config_map("kube-proxy", "kube-system")

    assert "config.conf" in config_map.data


def test_pod_logs_can_be_tailed(admin_kube: Kube) -> None:
    pod = admin_kube.list_pods("kube-system", label_selector=KUBE_PROXY)[0]

    log = admin_kube.read_pod_log(pod.meta.name, "kube-system", tail_lines=2)

    assert len(log.splitlines()) <= 2


def test_events_are_listed_for_one_object(admin_kube: Kube) -> None:
    pod = admin_kube.list_pods("kube-system", label_selector=KUBE_PROXY)[0]

    events = admin_kube.list_events_for(
        "kube-system", kind="Pod", name=pod.meta.name, uid=pod.meta.uid
    )

    assert "Scheduled" in {event.reason for event in events}
    assert {event.involved_object.uid for event in events} == {pod.meta.uid}
    times = [event.last_timestamp for event in events if event.last_timestamp is not None]
    assert len(times) == len(events)
    assert times == sorted(times)


def test_reading_a_missing_object_raises_not_found(admin_kube: Kube) -> None:
    with pytest.raises(NotFound):
        admin_kube.get_pod("kube-proxy-does-not-exist", "kube-system")
    with pytest.raises(NotFound):
        admin_kube.get_service("nope", "default")
    with pytest.raises(NotFound):
        admin_kube.get_deployment("nope", "default")


def test_deployments_show_desired_and_ready_replicas(admin_kube: Kube) -> None:
    deployments = {(d.meta.namespace, d.meta.name): d for d in admin_kube.list_deployments()}

    checkout = admin_kube.get_deployment("checkout", "shop")

    assert ("shop", "checkout") in deployments
    assert checkout.meta.uid == deployments[("shop", "checkout")].meta.uid
    assert checkout.replicas >= 1
    assert checkout.containers
    assert {"checkout", "web"} <= {d.meta.name for d in admin_kube.list_deployments("shop")}
