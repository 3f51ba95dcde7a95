"""Parsing Kubernetes JSON into the adapter's frozen views."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from integrations.kubernetes.views import (
    parse_config_map,
    parse_controller_revision,
    parse_daemon_set,
    parse_deployment,
    parse_endpoint_slice,
    parse_endpoints,
    parse_event,
    parse_node,
    parse_pod,
    parse_service,
)

FIXTURES = Path(__file__).parent / "fixtures"


def load(name: str) -> dict[str, Any]:
    document: dict[str, Any] = orjson.loads((FIXTURES / name).read_bytes())
    return document


def test_crashlooping_pod_shows_its_placement_readiness_and_restarts() -> None:
    pod = parse_pod(load("pod_crashlooping.json"))

    assert pod.meta.name == "kube-proxy-7xk2p"
    assert pod.meta.namespace == "kube-system"
    assert pod.meta.resource_version == "48213"
    assert pod.meta.labels["k8s-app"] == "kube-proxy"
    assert pod.node_name == "node-2"
    assert pod.phase == "Running"
    assert pod.pod_ip == "10.0.0.12"
    assert pod.ready is False
    [status] = pod.container_statuses
    assert status.restart_count == 7
    assert status.waiting_reason == "CrashLoopBackOff"
    assert status.terminated_reason is None
    assert status.last_terminated_reason == "Error"
    assert pod.restart_count == 7


def test_pod_metadata_names_its_controller_and_deletion() -> None:
    pod = parse_pod(load("pod_crashlooping.json"))

    controller = pod.meta.controller
    assert controller is not None
    assert (controller.kind, controller.name) == ("DaemonSet", "kube-proxy")
    assert pod.meta.deleting
    assert pod.meta.deletion_timestamp == datetime(2024, 5, 1, 11, 30, tzinfo=UTC)
    assert pod.meta.annotations["kubectl.kubernetes.io/restartedAt"] == "2024-05-01T09:59:00Z"


def test_pod_declared_ports_are_listed_with_their_names() -> None:
    pod = parse_pod(load("pod_crashlooping.json"))

    assert [(p.name, p.container_port) for p in pod.container_ports] == [
        ("metrics", 10249),
        (None, 10256),
    ]


def test_pod_without_status_details_parses_to_safe_defaults() -> None:
    pod = parse_pod(load("pod_pending_minimal.json"))

    assert pod.phase == "Pending"
    assert pod.node_name is None
    assert pod.pod_ip is None
    assert pod.ready is False
    assert pod.container_statuses == ()
    assert pod.meta.labels == {}
    assert pod.meta.owner_references == ()
    assert pod.meta.controller is None
    assert not pod.meta.deleting


def test_views_are_frozen_and_keep_the_raw_object() -> None:
    document = load("pod_crashlooping.json")
    pod = parse_pod(document)

    with pytest.raises(dataclasses.FrozenInstanceError):
        pod.phase = "Failed"  # type: ignore[misc]  # proving the view refuses assignment
    assert pod.raw is document
    assert "raw" not in repr(pod)


def test_nodeport_service_with_local_traffic_policy() -> None:
    service = parse_service(load("service_nodeport_local.json"))

    assert service.type == "NodePort"
    assert service.cluster_ip == "10.96.14.20"
    assert service.selector == {"app": "checkout", "tier": "web"}
    assert service.external_traffic_policy == "Local"
    assert service.session_affinity == "ClientIP"
    assert service.publish_not_ready_addresses is True
    assert service.health_check_node_port == 32001
    http, metrics, dns = service.ports
    assert (http.port, http.target_port, http.node_port) == (80, "http", 31080)
    assert (metrics.target_port, metrics.node_port) == (9090, 31090)
    assert (dns.protocol, dns.target_port, dns.node_port) == ("UDP", 53, None)


def test_external_name_service_has_no_selector_or_cluster_ip() -> None:
    service = parse_service(load("service_external_name.json"))

    assert service.type == "ExternalName"
    assert service.external_name == "db.example.internal"
    assert service.cluster_ip is None
    assert service.selector == {}
    assert service.ports == ()


def test_endpoints_separate_ready_and_not_ready_addresses() -> None:
    endpoints = parse_endpoints(load("endpoints_checkout.json"))

    assert endpoints.ready_ips == ("10.244.1.5", "10.244.2.9")
    assert endpoints.not_ready_ips == ("10.244.3.4",)
    [subset] = endpoints.subsets
    assert subset.not_ready_addresses[0].target_name == "checkout-6b7d-klmno"
    assert subset.ready_addresses[0].node_name == "node-1"
    assert [(p.name, p.port) for p in subset.ports] == [("http", 8080)]


def test_endpoint_slice_keeps_conditions_and_its_service() -> None:
    endpoint_slice = parse_endpoint_slice(load("endpointslice_checkout.json"))

    assert endpoint_slice.service_name == "checkout"
    assert endpoint_slice.address_type == "IPv4"
    ready, terminating, unknown = endpoint_slice.endpoints
    assert (ready.ready, ready.serving, ready.terminating) == (True, True, False)
    assert (terminating.ready, terminating.terminating) == (False, True)
    assert terminating.target_name == "checkout-6b7d-klmno"
    assert unknown.ready is None
    assert [e.counts_as_ready for e in endpoint_slice.endpoints] == [True, False, True]


def test_daemon_set_shows_images_strategy_and_rollout_progress() -> None:
    daemon_set = parse_daemon_set(load("daemonset_kube_proxy.json"))

    assert daemon_set.images == (
        "registry.k8s.io/kube-proxy:v1.30.3",
        "example.com/conntrack-tools:1.4",
    )
    assert daemon_set.selector == {"k8s-app": "kube-proxy"}
    assert daemon_set.update_strategy.type == "RollingUpdate"
    assert daemon_set.update_strategy.max_unavailable == "10%"
    assert daemon_set.update_strategy.max_surge == 0
    assert daemon_set.meta.generation == 4
    assert daemon_set.status.observed_generation == 3
    assert not daemon_set.rollout_observed
    assert daemon_set.status.desired_number_scheduled == 3
    assert daemon_set.status.updated_number_scheduled == 1
    assert daemon_set.status.number_unavailable == 1


def test_controller_revision_carries_its_number_and_template() -> None:
    revision = parse_controller_revision(load("controllerrevision_kube_proxy.json"))

    assert revision.revision == 3
    template = revision.data["spec"]["template"]
    assert template["spec"]["containers"][0]["image"] == "registry.k8s.io/kube-proxy:v1.30.2"
    assert revision.meta.owner_references[0].uid == "9b1f0f3e-0000-4000-8000-00000000d5e7"


def test_deployment_shows_desired_and_ready_replicas() -> None:
    deployment = parse_deployment(load("deployment_checkout.json"))

    assert deployment.replicas == 3
    assert deployment.status.ready_replicas == 2
    assert deployment.status.unavailable_replicas == 1
    assert deployment.containers[0].image == "shop/checkout:2.1"


def test_node_with_unknown_ready_condition_is_not_ready() -> None:
    node = parse_node(load("node_not_ready.json"))

    assert node.meta.name == "node-3"
    assert node.meta.namespace is None
    assert node.ready is False
    assert node.unschedulable is True
    assert node.internal_ip == "10.0.0.13"


def test_event_reports_reason_count_and_last_time() -> None:
    event = parse_event(load("event_backoff.json"))

    assert (event.reason, event.type, event.count) == ("BackOff", "Warning", 42)
    assert event.last_timestamp == datetime(2024, 5, 1, 11, 20, tzinfo=UTC)
    assert event.involved_object.name == "kube-proxy-7xk2p"
    assert event.source_component == "kubelet"


def test_event_from_a_newer_reporter_falls_back_to_its_series() -> None:
    event = parse_event(load("event_series.json"))

    assert event.count == 5
    assert event.last_timestamp == datetime(2024, 5, 1, 10, 4, 0, 123456, tzinfo=UTC)
    assert event.source_component == "endpoint-controller"
    assert event.involved_object.uid is None


def test_config_map_exposes_its_data() -> None:
    config_map = parse_config_map(load("configmap_kube_proxy.json"))

    assert "mode: iptables" in config_map.data["config.conf"]
