"""Garbage collection and Deployments through SimCluster."""

from __future__ import annotations

from typing import Any

import pytest

from simcluster import resources
from simcluster.clock import FakeClock
from simcluster.cluster import SimCluster
from simcluster.controllers.replicaset import pods_to_remove
from simcluster.scenarios import build_cluster

Obj = dict[str, Any]


@pytest.fixture
def cluster() -> SimCluster:
    return build_cluster(nodes=3, clock=FakeClock())


def _web_pods(cluster: SimCluster) -> list[Obj]:
    return [
        p
        for p in cluster.store.list_objects(resources.PODS, namespace="shop")
        if p["metadata"]["labels"]["app"] == "web"
    ]


def test_deleting_a_deployment_deletes_its_replicasets_and_pods(cluster: SimCluster) -> None:
    cluster.store.delete(resources.DEPLOYMENTS, "shop", "web")
    cluster.settle()
    assert not any(
        rs["metadata"]["name"].startswith("web-")
        for rs in cluster.store.list_objects(resources.REPLICASETS, namespace="shop")
    )
    assert _web_pods(cluster) == []


def test_orphan_deletion_keeps_the_dependents_without_owner(cluster: SimCluster) -> None:
    cluster.delete(resources.DAEMONSETS, "kube-system", "kube-proxy", propagation_policy="Orphan")
    cluster.settle()
    pods = [
        p
        for p in cluster.store.list_objects(resources.PODS, namespace="kube-system")
        if p["metadata"]["labels"].get("k8s-app") == "kube-proxy"
    ]
    assert len(pods) == 3
    assert all("ownerReferences" not in p["metadata"] for p in pods)


def test_a_deleted_namespace_is_emptied(cluster: SimCluster) -> None:
    cluster.store.delete(resources.NAMESPACES, None, "shop")
    cluster.settle()
    assert cluster.store.list_objects(resources.PODS, namespace="shop") == []
    assert cluster.store.list_objects(resources.SERVICES, namespace="shop") == []


def test_deployment_status_and_replicaset_naming(cluster: SimCluster) -> None:
    deploy = cluster.store.get(resources.DEPLOYMENTS, "shop", "web")
    [rs] = [
        r
        for r in cluster.store.list_objects(resources.REPLICASETS, namespace="shop")
        if r["metadata"]["name"].startswith("web-")
    ]
    assert rs["metadata"]["name"] == f"web-{rs['metadata']['labels']['pod-template-hash']}"
    assert all(
        p["metadata"]["name"].startswith(rs["metadata"]["name"] + "-") for p in _web_pods(cluster)
    )
    status = deploy["status"]
    assert (
        status["replicas"],
        status["readyReplicas"],
        status["availableReplicas"],
        status["updatedReplicas"],
    ) == (3, 3, 3, 3)
    assert status["observedGeneration"] == deploy["metadata"]["generation"]


def test_scaling_a_deployment_changes_its_pod_count(cluster: SimCluster) -> None:
    cluster.store.update(
        resources.DEPLOYMENTS, "shop", "web", lambda d: d["spec"].update(replicas=5)
    )
    cluster.settle()
    assert len(_web_pods(cluster)) == 5
    cluster.store.update(
        resources.DEPLOYMENTS, "shop", "web", lambda d: d["spec"].update(replicas=1)
    )
    cluster.settle()
    assert len(_web_pods(cluster)) == 1


def test_a_template_change_rolls_to_a_new_replicaset(cluster: SimCluster) -> None:
    def mutate(deploy: Obj) -> None:
        deploy["spec"]["template"]["spec"]["containers"][0]["image"] = (
            "registry.example.com/shop/web:1.5.0"
        )

    cluster.store.update(resources.DEPLOYMENTS, "shop", "web", mutate)
    cluster.settle()
    images = {p["spec"]["containers"][0]["image"] for p in _web_pods(cluster)}
    assert images == {"registry.example.com/shop/web:1.5.0"}
    replica_sets = {
        r["metadata"]["annotations"]["deployment.kubernetes.io/revision"]: r["spec"]["replicas"]
        for r in cluster.store.list_objects(resources.REPLICASETS, namespace="shop")
        if r["metadata"]["name"].startswith("web-")
    }
    assert replica_sets == {"1": 0, "2": 3}


def test_scale_down_removes_unready_pods_before_the_newest_ready_ones() -> None:
    def pod(name: str, *, ready: bool, created: str) -> Obj:
        return {
            "metadata": {"name": name, "creationTimestamp": created},
            "spec": {"nodeName": "n"},
            "status": {"conditions": [{"type": "Ready", "status": str(ready)}]},
        }

    pods = [
        pod("old", ready=True, created="1"),
        pod("new", ready=True, created="2"),
        pod("sick", ready=False, created="0"),
    ]
    assert pods_to_remove(pods, 2) == ["sick", "new"]
