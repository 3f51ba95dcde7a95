"""Graceful pod deletion: Terminating for the grace period, out of ready endpoints, replaced."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from simcluster import resources
from simcluster.clock import FakeClock
from simcluster.cluster import SimCluster
from simcluster.controllers.termination import grace_period
from simcluster.objects import format_time
from simcluster.scenarios import build_cluster
from simcluster.settings import SimSettings

Obj = dict[str, Any]
# One second of grace is a second here, so the tests can watch the grace period pass.
REAL_TIME = SimSettings(termination_grace_scale=1.0)


@pytest.fixture
def cluster() -> SimCluster:
    return build_cluster(nodes=3, clock=FakeClock(), settings=REAL_TIME)


def _clock(cluster: SimCluster) -> FakeClock:
    assert isinstance(cluster.clock, FakeClock)
    return cluster.clock


def _act(cluster: SimCluster) -> None:
    """Let the controllers react, without letting time pass."""
    cluster.runtime.settle(timeout=0)


def _pods(cluster: SimCluster, namespace: str, **labels: str) -> list[Obj]:
    return [
        p
        for p in cluster.store.list_objects(resources.PODS, namespace=namespace)
        if labels.items() <= (p["metadata"].get("labels") or {}).items()
    ]


def _web_pod(cluster: SimCluster) -> Obj:
    return sorted(_pods(cluster, "shop", app="web"), key=lambda p: p["metadata"]["name"])[0]


def _exists(cluster: SimCluster, pod: Obj) -> bool:
    return cluster.store.exists(resources.PODS, "shop", pod["metadata"]["name"])


def _pod(*, node: str | None = "node-1", phase: str = "Running", grace: int | None = 30) -> Obj:
    spec: Obj = {"containers": [{"name": "app", "image": "app:1"}]}
    if node:
        spec["nodeName"] = node
    if grace is not None:
        spec["terminationGracePeriodSeconds"] = grace
    return {"metadata": {"name": "p"}, "spec": spec, "status": {"phase": phase}}


@pytest.mark.parametrize(
    ("pod", "requested", "expected"),
    [
        (_pod(), None, 30),
        (_pod(grace=5), None, 5),
        (_pod(grace=None), None, 30),
        (_pod(), 10, 10),
        (_pod(), 0, 0),
        (_pod(), -3, 1),
        (_pod(node=None), None, 0),
        (_pod(phase="Succeeded"), None, 0),
        (_pod(phase="Failed"), 60, 0),
    ],
    ids=[
        "the-pods-own",
        "a-shorter-own",
        "defaulted",
        "the-requests",
        "zero-asked",
        "negative-is-one-second",
        "never-scheduled",
        "succeeded",
        "failed",
    ],
)
def test_the_grace_period_comes_from_the_request_else_the_pod(
    pod: Obj, requested: int | None, expected: int
) -> None:
    assert grace_period(pod, requested) == expected


def test_a_deleted_pod_is_terminating_for_its_grace_period_then_gone(cluster: SimCluster) -> None:
    victim = _web_pod(cluster)
    deleted_at = cluster.clock.now()
    marked = cluster.delete(resources.PODS, "shop", victim["metadata"]["name"])
    assert marked["metadata"]["deletionGracePeriodSeconds"] == 30
    # The deadline: the time of the delete plus the grace period.
    assert marked["metadata"]["deletionTimestamp"] == format_time(
        deleted_at + timedelta(seconds=30)
    )
    _act(cluster)
    _clock(cluster).advance(29)
    _act(cluster)
    assert _exists(cluster, victim)
    _clock(cluster).advance(1)
    _act(cluster)
    assert not _exists(cluster, victim)


def test_the_kubelet_records_that_it_stops_the_containers(cluster: SimCluster) -> None:
    victim = _web_pod(cluster)
    cluster.delete(resources.PODS, "shop", victim["metadata"]["name"])
    _act(cluster)
    killing = [
        e
        for e in cluster.store.list_objects(resources.EVENTS, namespace="shop")
        if e["reason"] == "Killing" and e["involvedObject"]["name"] == victim["metadata"]["name"]
    ]
    [event] = killing
    assert event["message"] == "Stopping container web"
    assert event["source"]["component"] == "kubelet"


def test_a_grace_period_of_zero_deletes_the_pod_at_once(cluster: SimCluster) -> None:
    victim = _web_pod(cluster)
    cluster.delete(resources.PODS, "shop", victim["metadata"]["name"], grace_period_seconds=0)
    assert not _exists(cluster, victim)


def test_a_shorter_grace_period_brings_the_end_closer_and_a_longer_one_does_not(
    cluster: SimCluster,
) -> None:
    victim = _web_pod(cluster)
    name = victim["metadata"]["name"]
    cluster.delete(resources.PODS, "shop", name, grace_period_seconds=20)
    _act(cluster)
    _clock(cluster).advance(5)
    again = cluster.delete(resources.PODS, "shop", name, grace_period_seconds=60)
    assert again["metadata"]["deletionGracePeriodSeconds"] == 20
    shorter = cluster.delete(resources.PODS, "shop", name, grace_period_seconds=10)
    assert shorter["metadata"]["deletionGracePeriodSeconds"] == 10
    _act(cluster)
    _clock(cluster).advance(5)  # ten seconds since the first delete
    _act(cluster)
    assert not _exists(cluster, victim)


def test_a_grace_period_of_zero_ends_a_pending_termination(cluster: SimCluster) -> None:
    victim = _web_pod(cluster)
    cluster.delete(resources.PODS, "shop", victim["metadata"]["name"])
    _act(cluster)
    cluster.delete(resources.PODS, "shop", victim["metadata"]["name"], grace_period_seconds=0)
    assert not _exists(cluster, victim)


def _web_endpoints(cluster: SimCluster) -> dict[str, Obj]:
    [slice_] = [
        s
        for s in cluster.store.list_objects(resources.ENDPOINTSLICES, namespace="shop")
        if s["metadata"]["labels"]["kubernetes.io/service-name"] == "web"
    ]
    return {e["targetRef"]["name"]: e for e in slice_["endpoints"]}


def _ready_addresses(cluster: SimCluster) -> set[str]:
    subsets = cluster.store.get(resources.ENDPOINTS, "shop", "web").get("subsets") or []
    return {a["targetRef"]["name"] for s in subsets for a in s.get("addresses") or []}


def test_a_terminating_pods_endpoint_is_serving_and_terminating_until_it_is_gone(
    cluster: SimCluster,
) -> None:
    victim = _web_pod(cluster)["metadata"]["name"]
    cluster.delete(resources.PODS, "shop", victim)
    _act(cluster)
    assert _web_endpoints(cluster)[victim]["conditions"] == {
        "ready": False,
        "serving": True,
        "terminating": True,
    }
    assert victim not in _ready_addresses(cluster)
    cluster.settle(timeout=60)
    assert victim not in _web_endpoints(cluster)
    assert len(_ready_addresses(cluster)) == 3


def test_a_replicaset_replaces_a_terminating_pod_at_once(cluster: SimCluster) -> None:
    victim = _web_pod(cluster)["metadata"]["name"]
    cluster.delete(resources.PODS, "shop", victim)
    _act(cluster)
    pods = _pods(cluster, "shop", app="web")
    assert len(pods) == 4
    assert [p["metadata"]["name"] for p in pods if p["metadata"].get("deletionTimestamp")] == [
        victim
    ]
    cluster.settle(timeout=60)
    assert len(_pods(cluster, "shop", app="web")) == 3


def test_a_daemonset_pods_replacement_runs_while_the_old_pod_is_still_terminating(
    cluster: SimCluster,
) -> None:
    [old] = [
        p for p in _pods(cluster, "kube-system", **{"k8s-app": "kube-proxy"})
        if p["spec"]["nodeName"] == "node-2"
    ]  # fmt: skip
    cluster.delete(resources.PODS, "kube-system", old["metadata"]["name"])
    _act(cluster)
    _clock(cluster).advance(1)  # long enough for the replacement to start and become Ready
    _act(cluster)
    on_node = {
        p["metadata"]["name"]: p
        for p in _pods(cluster, "kube-system", **{"k8s-app": "kube-proxy"})
        if p["spec"]["nodeName"] == "node-2"
    }
    assert on_node.pop(old["metadata"]["name"])["metadata"]["deletionTimestamp"]
    [replacement] = on_node.values()
    assert "deletionTimestamp" not in replacement["metadata"]
    assert replacement["status"]["phase"] == "Running"
    cluster.settle(timeout=60)
    assert not cluster.store.exists(resources.PODS, "kube-system", old["metadata"]["name"])
    status = cluster.store.get(resources.DAEMONSETS, "kube-system", "kube-proxy")["status"]
    assert (status["desiredNumberScheduled"], status["numberReady"]) == (3, 3)
