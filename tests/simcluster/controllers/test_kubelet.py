"""The simulated kubelet through SimCluster: lifecycle, crash loops, readiness failures, events."""

from __future__ import annotations

from typing import Any

from simcluster import resources
from simcluster.clock import FakeClock
from simcluster.cluster import SimCluster
from simcluster.scenarios import build_cluster
from simcluster.settings import SimSettings

Obj = dict[str, Any]
CRASHING = "registry.example.com/shop/web:broken"


def _cluster() -> tuple[SimCluster, FakeClock]:
    clock = FakeClock()
    settings = SimSettings(
        crashing_images=frozenset({CRASHING}),
        crash_backoff_seconds=10,
        crash_backoff_max_seconds=40,
    )
    return build_cluster(nodes=2, clock=clock, settings=settings), clock


def _pod(name: str, image: str) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": "shop", "labels": {"app": name}},
        "spec": {"containers": [{"name": "app", "image": image}]},
    }


def _events(cluster: SimCluster, pod: str) -> dict[str, Obj]:
    return {
        e["reason"]: e
        for e in cluster.store.list_objects(resources.EVENTS, namespace="shop")
        if e["involvedObject"]["name"] == pod
    }


def test_a_new_pod_is_scheduled_started_and_becomes_ready() -> None:
    cluster, _ = _cluster()
    cluster.create(_pod("solo", "nginx:1.27"))
    cluster.settle()
    pod = cluster.store.get(resources.PODS, "shop", "solo")
    status = pod["status"]
    assert pod["spec"]["nodeName"] in {"node-1", "node-2"}
    assert status["phase"] == "Running"
    assert {c["type"]: c["status"] for c in status["conditions"]} == {
        "Initialized": "True",
        "Ready": "True",
        "ContainersReady": "True",
        "PodScheduled": "True",
    }
    [container] = status["containerStatuses"]
    assert container["ready"]
    assert container["started"]
    assert "running" in container["state"]
    assert container["containerID"].startswith("containerd://")
    assert status["podIP"].startswith("10.128.")
    assert status["hostIP"].startswith("172.18.")
    assert {"Scheduled", "Pulled", "Created", "Started"} <= set(_events(cluster, "solo"))


def test_pod_ips_are_unique_and_inside_the_node_pod_cidr() -> None:
    cluster, _ = _cluster()
    for index in range(6):
        cluster.create(_pod(f"p{index}", "nginx:1.27"))
    cluster.settle()
    pods = cluster.store.list_objects(resources.PODS, namespace="shop")
    ips = [p["status"]["podIP"] for p in pods]
    assert len(ips) == len(set(ips))
    for pod in pods:
        node = cluster.store.get(resources.NODES, None, pod["spec"]["nodeName"])
        assert pod["status"]["podIP"].rsplit(".", 1)[0] == node["spec"]["podCIDR"].rsplit(".", 1)[0]


def test_a_crashing_image_crash_loops_with_rising_restarts_and_backoff_events() -> None:
    cluster, clock = _cluster()
    cluster.create(_pod("bad", CRASHING))
    cluster.settle(timeout=1)
    first = cluster.store.get(resources.PODS, "shop", "bad")["status"]
    [container] = first["containerStatuses"]
    assert first["phase"] == "Running"
    assert container["state"]["waiting"]["reason"] == "CrashLoopBackOff"
    assert container["lastState"]["terminated"]["exitCode"] == 1
    assert container["restartCount"] == 1
    assert not container["ready"]
    clock.advance(10)
    cluster.settle(timeout=1)
    later = cluster.store.get(resources.PODS, "shop", "bad")["status"]["containerStatuses"][0]
    assert later["restartCount"] == 2
    backoff = _events(cluster, "bad")["BackOff"]
    assert backoff["type"] == "Warning"
    assert backoff["message"] == "Back-off restarting failed container"
    assert backoff["count"] == 2


def test_a_readiness_fault_keeps_pods_running_but_not_ready_until_healed() -> None:
    cluster, clock = _cluster()
    cluster.faults.app_pods_not_ready("shop", "app=web")
    cluster.settle(timeout=1)
    web = [
        p
        for p in cluster.store.list_objects(resources.PODS, namespace="shop")
        if p["metadata"]["labels"]["app"] == "web"
    ]
    assert web
    assert all(p["status"]["phase"] == "Running" for p in web)
    assert all(not p["status"]["containerStatuses"][0]["ready"] for p in web)
    unhealthy = _events(cluster, web[0]["metadata"]["name"])["Unhealthy"]
    assert unhealthy["message"].startswith("Readiness probe failed")
    cluster.faults.heal("app-pods-not-ready")
    clock.advance(1)
    cluster.settle(timeout=1)
    web = [
        p
        for p in cluster.store.list_objects(resources.PODS, namespace="shop")
        if p["metadata"]["labels"]["app"] == "web"
    ]
    assert all(p["status"]["containerStatuses"][0]["ready"] for p in web)


def test_events_are_bounded() -> None:
    clock = FakeClock()
    cluster = build_cluster(nodes=2, clock=clock, settings=SimSettings(max_events=10))
    assert cluster.store.count(resources.EVENTS) == 10


def test_a_tag_the_registry_does_not_have_fails_to_pull_and_then_backs_off() -> None:
    cluster, clock = _cluster()
    cluster.create(_pod("typo", "registry.example.com/shop/web:9.9.9-broken"))
    cluster.settle(timeout=1)
    first = cluster.store.get(resources.PODS, "shop", "typo")["status"]
    [container] = first["containerStatuses"]
    assert first["phase"] == "Pending"
    assert container["state"]["waiting"]["reason"] == "ErrImagePull"
    assert "not found" in container["state"]["waiting"]["message"]
    assert not container["ready"]
    assert container["restartCount"] == 0
    failed = _events(cluster, "typo")["Failed"]
    assert failed["type"] == "Warning"
    clock.advance(10)
    cluster.settle(timeout=1)
    later = cluster.store.get(resources.PODS, "shop", "typo")["status"]["containerStatuses"][0]
    assert later["state"]["waiting"]["reason"] == "ImagePullBackOff"
    assert _events(cluster, "typo")["BackOff"]["message"] == (
        'Back-off pulling image "registry.example.com/shop/web:9.9.9-broken"'
    )


def test_an_image_of_a_repository_the_registry_does_not_serve_pulls() -> None:
    cluster, _ = _cluster()
    cluster.create(_pod("public", "docker.io/library/nginx:1.27"))
    cluster.settle(timeout=1)
    status = cluster.store.get(resources.PODS, "shop", "public")["status"]
    assert status["phase"] == "Running"
    assert status["containerStatuses"][0]["ready"]


def test_a_crashing_image_pulls_even_with_a_tag_the_registry_does_not_list() -> None:
    cluster, _ = _cluster()
    cluster.create(_pod("bad", CRASHING))
    cluster.settle(timeout=1)
    waiting = cluster.store.get(resources.PODS, "shop", "bad")["status"]["containerStatuses"][0]
    assert waiting["state"]["waiting"]["reason"] == "CrashLoopBackOff"
