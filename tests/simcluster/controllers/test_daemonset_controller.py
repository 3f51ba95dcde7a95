"""The DaemonSet controller through SimCluster: pods per node, revisions, rolling updates, undo."""

from __future__ import annotations

from typing import Any

import pytest

from simcluster import resources
from simcluster.clock import FakeClock
from simcluster.cluster import SimCluster
from simcluster.controllers.revisions import template_of
from simcluster.scenarios import build_cluster

Obj = dict[str, Any]
NS, DS = "kube-system", "kube-proxy"


@pytest.fixture
def cluster() -> SimCluster:
    return build_cluster(nodes=4, clock=FakeClock())


def _proxy_pods(cluster: SimCluster) -> list[Obj]:
    return [
        p
        for p in cluster.store.list_objects(resources.PODS, namespace=NS)
        if p["metadata"]["labels"].get("k8s-app") == "kube-proxy"
    ]


def _revisions(cluster: SimCluster) -> dict[str, int]:
    return {
        r["metadata"]["name"]: r["revision"]
        for r in cluster.store.list_objects(resources.CONTROLLERREVISIONS, namespace=NS)
    }


def _set_image(cluster: SimCluster, image: str) -> None:
    def mutate(ds: Obj) -> None:
        ds["spec"]["template"]["spec"]["containers"][0]["image"] = image

    cluster.store.update(resources.DAEMONSETS, NS, DS, mutate)


def test_one_owned_pod_runs_on_every_node(cluster: SimCluster) -> None:
    pods = _proxy_pods(cluster)
    assert sorted(p["spec"]["nodeName"] for p in pods) == ["node-1", "node-2", "node-3", "node-4"]
    for pod in pods:
        [owner] = pod["metadata"]["ownerReferences"]
        assert (owner["kind"], owner["name"], owner["controller"]) == ("DaemonSet", DS, True)
        assert pod["metadata"]["labels"]["pod-template-generation"] == "1"
        assert pod["metadata"]["name"].startswith("kube-proxy-")
        assert len(pod["metadata"]["name"]) == len("kube-proxy-") + 5
    status = cluster.store.get(resources.DAEMONSETS, NS, DS)["status"]
    assert (
        status["desiredNumberScheduled"],
        status["numberReady"],
        status["updatedNumberScheduled"],
    ) == (4, 4, 4)


def test_deleted_daemonset_pod_comes_back_with_a_new_name(cluster: SimCluster) -> None:
    victim = next(p for p in _proxy_pods(cluster) if p["spec"]["nodeName"] == "node-2")
    cluster.store.delete(resources.PODS, NS, victim["metadata"]["name"])
    cluster.settle()
    replacement = next(p for p in _proxy_pods(cluster) if p["spec"]["nodeName"] == "node-2")
    assert replacement["metadata"]["name"] != victim["metadata"]["name"]
    assert replacement["status"]["phase"] == "Running"
    assert cluster.store.get(resources.DAEMONSETS, NS, DS)["status"]["numberReady"] == 4


def test_template_change_creates_a_revision_and_rolls_one_node_at_a_time(
    cluster: SimCluster,
) -> None:
    before = {p["metadata"]["name"] for p in _proxy_pods(cluster)}
    _set_image(cluster, "registry.k8s.io/kube-proxy:v1.30.5")
    unavailable_seen = []
    while True:
        cluster.runtime.settle(timeout=0)  # let the controllers act, without letting time pass
        status = cluster.store.get(resources.DAEMONSETS, NS, DS)["status"]
        unavailable_seen.append(status["numberUnavailable"])
        if status["updatedNumberScheduled"] == 4 and status["numberAvailable"] == 4:
            break
        assert isinstance(cluster.clock, FakeClock)
        cluster.clock.advance(0.05)
    assert max(unavailable_seen) == 1
    assert sorted(_revisions(cluster).values()) == [1, 2]
    cluster.settle()  # the last replaced pod finishes terminating
    after = _proxy_pods(cluster)
    assert not before & {p["metadata"]["name"] for p in after}
    assert {p["spec"]["containers"][0]["image"] for p in after} == {
        "registry.k8s.io/kube-proxy:v1.30.5"
    }


def test_max_unavailable_two_replaces_two_nodes_per_batch(cluster: SimCluster) -> None:
    def mutate(ds: Obj) -> None:
        ds["spec"]["updateStrategy"]["rollingUpdate"]["maxUnavailable"] = 2
        ds["spec"]["template"]["spec"]["containers"][0]["image"] = (
            "registry.k8s.io/kube-proxy:v1.30.5"
        )

    cluster.store.update(resources.DAEMONSETS, NS, DS, mutate)
    cluster.runtime.settle(timeout=0)
    status = cluster.store.get(resources.DAEMONSETS, NS, DS)["status"]
    assert status["numberUnavailable"] == 2
    cluster.settle()
    assert cluster.store.get(resources.DAEMONSETS, NS, DS)["status"]["updatedNumberScheduled"] == 4


def test_reverting_the_template_reuses_the_old_revision_as_the_newest(cluster: SimCluster) -> None:
    [first] = _revisions(cluster)
    _set_image(cluster, "registry.k8s.io/kube-proxy:v1.30.5")
    cluster.settle()
    revision = cluster.store.get(resources.CONTROLLERREVISIONS, NS, first)
    ds = cluster.store.get(resources.DAEMONSETS, NS, DS)
    # what `kubectl rollout undo` does: apply the previous revision's template
    cluster.store.update(
        resources.DAEMONSETS, NS, DS, lambda d: d["spec"].update(template=template_of(revision))
    )
    cluster.settle()
    revisions = _revisions(cluster)
    assert len(revisions) == 2
    assert revisions[first] == 3
    hashes = {p["metadata"]["labels"]["controller-revision-hash"] for p in _proxy_pods(cluster)}
    assert hashes == {revision["metadata"]["labels"]["controller-revision-hash"]}
    assert ds["metadata"]["generation"] == 2


def test_on_delete_strategy_only_updates_pods_that_are_deleted(cluster: SimCluster) -> None:
    def mutate(ds: Obj) -> None:
        ds["spec"]["updateStrategy"] = {"type": "OnDelete"}
        ds["spec"]["template"]["spec"]["containers"][0]["image"] = (
            "registry.k8s.io/kube-proxy:v1.30.5"
        )

    cluster.store.update(resources.DAEMONSETS, NS, DS, mutate)
    cluster.settle()
    assert cluster.store.get(resources.DAEMONSETS, NS, DS)["status"]["updatedNumberScheduled"] == 0
    victim = _proxy_pods(cluster)[0]
    cluster.store.delete(resources.PODS, NS, victim["metadata"]["name"])
    cluster.settle()
    assert cluster.store.get(resources.DAEMONSETS, NS, DS)["status"]["updatedNumberScheduled"] == 1


def test_a_new_node_gets_a_pod_and_a_removed_node_loses_it(cluster: SimCluster) -> None:
    node = cluster.store.get(resources.NODES, None, "node-4")
    cluster.store.delete(resources.NODES, None, "node-4")
    cluster.settle()
    assert "node-4" not in {p["spec"]["nodeName"] for p in _proxy_pods(cluster)}
    for key in ("uid", "resourceVersion", "creationTimestamp"):
        node["metadata"].pop(key)
    node["metadata"]["name"] = "node-9"
    cluster.create(node)
    cluster.settle()
    assert "node-9" in {p["spec"]["nodeName"] for p in _proxy_pods(cluster)}
    assert cluster.store.get(resources.DAEMONSETS, NS, DS)["status"]["desiredNumberScheduled"] == 4
