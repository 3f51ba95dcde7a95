"""Endpoints and EndpointSlices through SimCluster: they follow pods, readiness and the Service."""

from __future__ import annotations

from typing import Any

import pytest

from simcluster import manifests, resources
from simcluster.clock import FakeClock
from simcluster.cluster import SimCluster
from simcluster.scenarios import build_cluster

Obj = dict[str, Any]


@pytest.fixture
def cluster() -> SimCluster:
    return build_cluster(nodes=3, clock=FakeClock())


def _slices(cluster: SimCluster, service: str) -> list[Obj]:
    return [
        s
        for s in cluster.store.list_objects(resources.ENDPOINTSLICES, namespace="shop")
        if s["metadata"]["labels"]["kubernetes.io/service-name"] == service
    ]


def test_the_slice_of_a_service_lists_its_ready_pods(cluster: SimCluster) -> None:
    [slice_] = _slices(cluster, "web")
    service = cluster.store.get(resources.SERVICES, "shop", "web")
    meta = slice_["metadata"]
    assert meta["name"].startswith("web-")
    assert len(meta["name"]) == len("web-") + 5
    assert (
        meta["labels"]["endpointslice.kubernetes.io/managed-by"]
        == "endpointslice-controller.k8s.io"
    )
    assert meta["ownerReferences"][0]["uid"] == service["metadata"]["uid"]
    assert slice_["ports"] == [{"name": "http", "port": 8080, "protocol": "TCP"}]
    assert len(slice_["endpoints"]) == 3
    assert all(
        e["conditions"]["ready"] and e["targetRef"]["kind"] == "Pod" for e in slice_["endpoints"]
    )


def test_endpoints_follow_pod_readiness(cluster: SimCluster) -> None:
    cluster.faults.app_pods_not_ready("shop", "app=web")
    cluster.settle(timeout=1)
    [subset] = cluster.store.get(resources.ENDPOINTS, "shop", "web")["subsets"]
    assert "addresses" not in subset
    assert len(subset["notReadyAddresses"]) == 3
    assert not any(e["conditions"]["ready"] for e in _slices(cluster, "web")[0]["endpoints"])


def test_a_deleted_pod_leaves_the_endpoints_and_its_replacement_joins(cluster: SimCluster) -> None:
    before = {
        a["targetRef"]["name"]
        for a in cluster.store.get(resources.ENDPOINTS, "shop", "web")["subsets"][0]["addresses"]
    }
    victim = sorted(before)[0]
    cluster.store.delete(resources.PODS, "shop", victim)
    cluster.settle()
    after = {
        a["targetRef"]["name"]
        for a in cluster.store.get(resources.ENDPOINTS, "shop", "web")["subsets"][0]["addresses"]
    }
    assert victim not in after
    assert len(after) == 3


def test_a_selector_matching_nothing_empties_the_endpoints(cluster: SimCluster) -> None:
    cluster.faults.selector_mismatch("shop", "web")
    cluster.settle()
    assert "subsets" not in cluster.store.get(resources.ENDPOINTS, "shop", "web")
    [placeholder] = _slices(cluster, "web")
    assert placeholder["endpoints"] == []


def test_deleting_the_service_removes_its_endpoints_and_slices(cluster: SimCluster) -> None:
    cluster.store.delete(resources.SERVICES, "shop", "web")
    cluster.settle()
    assert not cluster.store.exists(resources.ENDPOINTS, "shop", "web")
    assert _slices(cluster, "web") == []


def test_a_service_without_selector_is_left_alone(cluster: SimCluster) -> None:
    endpoints = cluster.store.get(resources.ENDPOINTS, "default", "kubernetes")
    assert endpoints["subsets"][0]["addresses"] == [{"ip": "172.18.0.1"}]
    assert cluster.store.list_objects(resources.ENDPOINTSLICES, namespace="default") == []


def _big_web(cluster: SimCluster, replicas: int) -> None:
    ports = [{"name": "http", "containerPort": 8080, "protocol": "TCP"}]
    service_ports = [{"name": "http", "port": 80, "protocol": "TCP", "targetPort": "http"}]
    cluster.create(
        manifests.deployment("shop", "big", image="shop/big:1", replicas=replicas, ports=ports)
    )
    cluster.create(manifests.service("shop", "big", ports=service_ports, selector={"app": "big"}))
    cluster.settle()


def test_a_service_with_250_ready_pods_gets_slices_of_100_100_and_50(cluster: SimCluster) -> None:
    _big_web(cluster, 250)
    slices = _slices(cluster, "big")
    assert sorted(len(s["endpoints"]) for s in slices) == [50, 100, 100]
    for slice_ in slices:
        meta = slice_["metadata"]
        assert meta["generateName"] == "big-"
        assert meta["name"].startswith("big-")
        assert len(meta["name"]) == len("big-") + 5
        assert meta["labels"]["kubernetes.io/service-name"] == "big"
        assert (
            meta["labels"]["endpointslice.kubernetes.io/managed-by"]
            == "endpointslice-controller.k8s.io"
        )
        assert all(e["conditions"]["ready"] for e in slice_["endpoints"])
    listed = [e["targetRef"]["name"] for s in slices for e in s["endpoints"]]
    pods = cluster.store.list_objects(resources.PODS, namespace="shop")
    assert sorted(listed) == sorted(
        p["metadata"]["name"] for p in pods if "big" in p["metadata"]["name"]
    )
    [subset] = cluster.store.get(resources.ENDPOINTS, "shop", "big")["subsets"]
    assert len(subset["addresses"]) == 250


def test_scaling_down_keeps_every_endpoint_listed_once_and_no_slice_over_100(
    cluster: SimCluster,
) -> None:
    _big_web(cluster, 250)

    def scale(deploy: Obj) -> None:
        deploy["spec"]["replicas"] = 120

    cluster.store.update(resources.DEPLOYMENTS, "shop", "big", scale)
    cluster.settle()
    slices = _slices(cluster, "big")
    listed = [e["targetRef"]["uid"] for s in slices for e in s["endpoints"]]
    assert len(listed) == len(set(listed)) == 120
    assert all(0 < len(s["endpoints"]) <= 100 for s in slices)
