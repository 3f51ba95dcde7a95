"""kube-state-metrics series: named, typed and labelled as v2 exports them; faults move them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from simcluster.clock import FakeClock
from simcluster.cluster import SimCluster
from simcluster.scenarios import build_cluster
from tests.simcluster.metrics_samples import named, parse, value


@pytest.fixture
def cluster() -> SimCluster:
    return build_cluster(nodes=3, clock=FakeClock())


POD = ["namespace", "pod", "uid"]
CONTAINER = [*POD, "container"]
DAEMONSET = ["namespace", "daemonset"]
ENDPOINT = ["namespace", "endpoint"]
SERVICE = ["namespace", "service", "uid"]
SERVICE_INFO = [*SERVICE, "cluster_ip", "external_name", "load_balancer_ip"]
POD_INFO = [*POD, "host_ip", "pod_ip", "node", "created_by_kind", "created_by_name"]
POD_INFO += ["priority_class", "host_network"]
PORTS = [*ENDPOINT, "port_name", "port_protocol", "port_number"]


@pytest.mark.parametrize(
    ("name", "type", "labels"),
    [
        ("kube_service_info", "gauge", SERVICE_INFO),
        ("kube_service_spec_type", "gauge", [*SERVICE, "type"]),
        ("kube_service_created", "gauge", SERVICE),
        ("kube_endpoint_info", "gauge", ENDPOINT),
        ("kube_endpoint_address", "gauge", [*ENDPOINT, "ip", "ready"]),
        ("kube_endpoint_address_available", "gauge", ENDPOINT),
        ("kube_endpoint_address_not_ready", "gauge", ENDPOINT),
        ("kube_endpoint_ports", "gauge", PORTS),
        ("kube_pod_info", "gauge", POD_INFO),
        ("kube_pod_status_phase", "gauge", [*POD, "phase"]),
        ("kube_pod_status_ready", "gauge", [*POD, "condition"]),
        ("kube_pod_container_status_restarts_total", "counter", CONTAINER),
        ("kube_pod_container_status_waiting", "gauge", CONTAINER),
        ("kube_pod_container_status_running", "gauge", CONTAINER),
        ("kube_pod_container_status_ready", "gauge", CONTAINER),
        ("kube_daemonset_status_current_number_scheduled", "gauge", DAEMONSET),
        ("kube_daemonset_status_desired_number_scheduled", "gauge", DAEMONSET),
        ("kube_daemonset_status_number_available", "gauge", DAEMONSET),
        ("kube_daemonset_status_number_misscheduled", "gauge", DAEMONSET),
        ("kube_daemonset_status_number_ready", "gauge", DAEMONSET),
        ("kube_daemonset_status_number_unavailable", "gauge", DAEMONSET),
        ("kube_daemonset_status_observed_generation", "gauge", DAEMONSET),
        ("kube_daemonset_status_updated_number_scheduled", "gauge", DAEMONSET),
        ("kube_daemonset_metadata_generation", "gauge", DAEMONSET),
    ],
)  # fmt: skip
def test_each_series_has_its_kube_state_metrics_name_type_and_labels_in_order(
    cluster: SimCluster, name: str, type: str, labels: list[str]
) -> None:
    text = cluster.metrics.kube_state_metrics()
    found = named(text, name)
    assert found, f"no {name} series"
    assert {s.type for s in found} == {type}
    assert {tuple(s.labels) for s in found} == {tuple(labels)}
    # The exposition itself lists the labels in kube-state-metrics' order.
    line = next(line for line in text.splitlines() if line.startswith(name + "{"))
    pairs = line[len(name) + 1 : line.index("}")].split('",')
    assert [pair.split("=")[0] for pair in pairs] == labels


def test_a_healthy_cluster_has_a_ready_address_series_per_endpoint_address(
    cluster: SimCluster,
) -> None:
    text = cluster.metrics.kube_state_metrics()
    web = named(text, "kube_endpoint_address", namespace="shop", endpoint="web")
    assert len(web) == 3
    assert {s.labels["ready"] for s in web} == {"true"}
    assert value(text, "kube_endpoint_address_available", namespace="shop", endpoint="web") == 3
    assert value(text, "kube_endpoint_address_not_ready", namespace="shop", endpoint="web") == 0
    assert value(text, "kube_service_spec_type", namespace="shop", service="web") == 1
    assert named(text, "kube_service_spec_type", service="web")[0].labels["type"] == "ClusterIP"


def test_every_pod_has_one_ready_condition_set_and_running_containers_have_no_waiting_reason(
    cluster: SimCluster,
) -> None:
    text = cluster.metrics.kube_state_metrics()
    pods = {s.labels["pod"] for s in named(text, "kube_pod_info")}
    ready = named(text, "kube_pod_status_ready", condition="true")
    assert {s.labels["pod"] for s in ready} == pods
    assert all(s.value == 1 for s in ready)
    assert named(text, "kube_pod_container_status_waiting_reason") == []
    phases = named(text, "kube_pod_status_phase", phase="Running")
    assert sum(s.value for s in phases) == len(pods)


def _proxy_pod(cluster: SimCluster, node: str) -> str:
    return str(cluster.kube_proxies.pods([node])[0]["metadata"]["name"])


def _kube_proxy_down(cluster: SimCluster) -> Any:
    return cluster.faults.kube_proxy_down(["node-2"])


def _no_ready_web(cluster: SimCluster) -> Any:
    return cluster.faults.selector_mismatch()


def _unready_checkout(cluster: SimCluster) -> Any:
    return cluster.faults.app_pods_not_ready()


def _bad_rollout(cluster: SimCluster) -> Any:
    return cluster.faults.bad_kube_proxy_rollout()


def _crash_looping_proxy_on_node_2(cluster: SimCluster, text: str) -> None:
    pod = _proxy_pod(cluster, "node-2")
    assert value(text, "kube_daemonset_status_number_unavailable", daemonset="kube-proxy") == 1
    assert value(text, "kube_daemonset_status_number_ready", daemonset="kube-proxy") == 2
    assert (
        value(text, "kube_daemonset_status_desired_number_scheduled", daemonset="kube-proxy") == 3
    )
    assert value(text, "kube_pod_status_ready", pod=pod, condition="false") == 1
    assert value(text, "kube_pod_container_status_restarts_total", pod=pod) >= 1
    waiting = named(text, "kube_pod_container_status_waiting_reason", pod=pod)
    assert [s.labels["reason"] for s in waiting] == ["CrashLoopBackOff"]
    assert list(waiting[0].labels) == [*CONTAINER, "reason"]


def _web_without_ready_address(cluster: SimCluster, text: str) -> None:
    del cluster
    # The absent series the handbook's ServiceDown rule trips over: no ready="true" at all.
    assert named(text, "kube_endpoint_address", endpoint="web", ready="true") == []
    assert named(text, "kube_endpoint_address", endpoint="web") == []
    assert value(text, "kube_endpoint_info", namespace="shop", endpoint="web") == 1
    assert value(text, "kube_endpoint_address_available", endpoint="web") == 0


def _checkout_addresses_not_ready(cluster: SimCluster, text: str) -> None:
    del cluster
    addresses = named(text, "kube_endpoint_address", endpoint="checkout")
    assert len(addresses) == 2
    assert {s.labels["ready"] for s in addresses} == {"false"}
    assert value(text, "kube_endpoint_address_not_ready", endpoint="checkout") == 2
    assert value(text, "kube_endpoint_address_available", endpoint="checkout") == 0
    unready = named(text, "kube_pod_status_ready", namespace="shop", condition="false")
    assert sum(s.value for s in unready) == 2


def _rollout_stalled(cluster: SimCluster, text: str) -> None:
    del cluster
    assert (
        value(text, "kube_daemonset_status_updated_number_scheduled", daemonset="kube-proxy") == 1
    )
    assert value(text, "kube_daemonset_status_number_unavailable", daemonset="kube-proxy") == 1
    assert value(text, "kube_daemonset_metadata_generation", daemonset="kube-proxy") == 2
    reasons = named(text, "kube_pod_container_status_waiting_reason", namespace="kube-system")
    assert [s.labels["reason"] for s in reasons] == ["CrashLoopBackOff"]


@pytest.mark.parametrize(
    ("inject", "check"),
    [
        (_kube_proxy_down, _crash_looping_proxy_on_node_2),
        (_no_ready_web, _web_without_ready_address),
        (_unready_checkout, _checkout_addresses_not_ready),
        (_bad_rollout, _rollout_stalled),
    ],
    ids=["kube-proxy-down", "selector-mismatch", "app-pods-not-ready", "bad-kube-proxy-rollout"],
)
def test_a_fault_moves_the_series_as_the_real_failure_would(
    cluster: SimCluster,
    inject: Callable[[SimCluster], Any],
    check: Callable[[SimCluster, str], None],
) -> None:
    inject(cluster)
    cluster.settle(timeout=1.0)
    check(cluster, cluster.metrics.kube_state_metrics())


def test_healing_a_fault_brings_the_series_back(cluster: SimCluster) -> None:
    healthy = {
        (s.name, tuple(s.labels.items()))
        for s in parse(cluster.metrics.kube_state_metrics())
        if s.name == "kube_endpoint_address"
    }
    cluster.faults.selector_mismatch()
    cluster.settle(timeout=1.0)
    cluster.faults.heal_all()
    cluster.settle(timeout=1.0)
    again = parse(cluster.metrics.kube_state_metrics())
    assert {
        (s.name, tuple(s.labels.items())) for s in again if s.name == "kube_endpoint_address"
    } == healthy
