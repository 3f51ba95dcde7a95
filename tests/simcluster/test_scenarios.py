"""Seeded scenarios: each shows the fault it names, and heals back to healthy."""

from __future__ import annotations

from typing import Any

import pytest

from simcluster import resources
from simcluster.bulk import build_large_cluster
from simcluster.clock import FakeClock
from simcluster.cluster import SimCluster
from simcluster.scenarios import SCENARIOS, build_cluster

Obj = dict[str, Any]


def _proxy_pods(cluster: SimCluster) -> list[Obj]:
    return [
        p
        for p in cluster.store.list_objects(resources.PODS, namespace="kube-system")
        if p["metadata"]["labels"].get("k8s-app") == "kube-proxy"
    ]


def _waiting(pod: Obj) -> str | None:
    return (pod["status"]["containerStatuses"][0]["state"].get("waiting") or {}).get("reason")


def test_every_scenario_has_a_description() -> None:
    assert set(SCENARIOS) == {
        "healthy",
        "kube-proxy-down",
        "kube-proxy-down-persistent",
        "bad-kube-proxy-rollout",
        "selector-mismatch",
        "wrong-target-port",
        "app-pods-not-ready",
        "api-flaky",
    }
    assert all(s.description for s in SCENARIOS.values())


def test_the_healthy_cluster_has_its_namespaces_nodes_and_apps() -> None:
    cluster = build_cluster(nodes=5, clock=FakeClock())
    namespaces = {n["metadata"]["name"] for n in cluster.store.list_objects(resources.NAMESPACES)}
    assert {"default", "kube-system", "service-runbooks", "shop"} <= namespaces
    assert cluster.store.count(resources.NODES) == 5
    assert all(
        _waiting(p) is None and p["status"]["containerStatuses"][0]["ready"]
        for p in cluster.store.list_objects(resources.PODS)
    )
    config = cluster.store.get(resources.CONFIGMAPS, "kube-system", "kube-proxy")["data"][
        "config.conf"
    ]
    assert "kind: KubeProxyConfiguration" in config
    assert "mode: iptables" in config
    web = cluster.store.get(resources.SERVICES, "shop", "web")["spec"]
    assert web["ports"][0]["targetPort"] == "http"


def test_kube_proxy_down_crash_loops_kube_proxy_on_two_nodes() -> None:
    cluster = build_cluster(nodes=5, scenario="kube-proxy-down", clock=FakeClock())
    failing = sorted(
        p["spec"]["nodeName"] for p in _proxy_pods(cluster) if _waiting(p) == "CrashLoopBackOff"
    )
    assert failing == cluster.faults.active()["kube-proxy-down"]["nodes"]
    assert len(failing) == 2
    cluster.faults.heal("kube-proxy-down")
    cluster.settle(timeout=1)
    assert all(p["status"]["containerStatuses"][0]["ready"] for p in _proxy_pods(cluster))


def _restart_proxy_on(cluster: SimCluster, node: str) -> Obj:
    """Delete the node's kube-proxy pod (what the checklist's restart does); its replacement."""
    victim = next(p for p in _proxy_pods(cluster) if p["spec"]["nodeName"] == node)
    cluster.store.delete(resources.PODS, "kube-system", victim["metadata"]["name"])
    cluster.settle(timeout=1)
    return next(p for p in _proxy_pods(cluster) if p["spec"]["nodeName"] == node)


def test_a_wedged_kube_proxy_is_cured_by_deleting_its_pod() -> None:
    cluster = build_cluster(nodes=5, scenario="kube-proxy-down", clock=FakeClock())
    restarted, untouched = cluster.faults.active()["kube-proxy-down"]["nodes"]
    assert cluster.kube_proxies.stale_rules(restarted) is not None

    replacement = _restart_proxy_on(cluster, restarted)

    assert _waiting(replacement) is None
    assert replacement["status"]["containerStatuses"][0]["ready"]
    assert cluster.kube_proxies.stale_rules(restarted) is None
    # The other node's pod was not restarted: still wedged, its rules still stale.
    still = next(p for p in _proxy_pods(cluster) if p["spec"]["nodeName"] == untouched)
    assert _waiting(still) == "CrashLoopBackOff"
    assert cluster.kube_proxies.stale_rules(untouched) is not None


def test_a_persistent_kube_proxy_fault_survives_a_restart() -> None:
    cluster = build_cluster(nodes=5, scenario="kube-proxy-down-persistent", clock=FakeClock())
    active = cluster.faults.active()["kube-proxy-down"]
    assert active["persistent"] is True
    node = active["nodes"][0]

    replacement = _restart_proxy_on(cluster, node)

    assert _waiting(replacement) == "CrashLoopBackOff"
    assert cluster.kube_proxies.stale_rules(node) is not None
    cluster.faults.heal("kube-proxy-down")
    cluster.settle(timeout=1)
    assert all(p["status"]["containerStatuses"][0]["ready"] for p in _proxy_pods(cluster))
    assert cluster.kube_proxies.stale_rules(node) is None


def test_bad_kube_proxy_rollout_stalls_on_one_crashing_new_pod() -> None:
    cluster = build_cluster(nodes=5, scenario="bad-kube-proxy-rollout", clock=FakeClock())
    crashing = [p for p in _proxy_pods(cluster) if _waiting(p) == "CrashLoopBackOff"]
    assert len(crashing) == 1
    assert crashing[0]["spec"]["containers"][0]["image"].endswith("-broken")
    status = cluster.store.get(resources.DAEMONSETS, "kube-system", "kube-proxy")["status"]
    assert (status["updatedNumberScheduled"], status["numberUnavailable"]) == (1, 1)
    assert (
        len(cluster.store.list_objects(resources.CONTROLLERREVISIONS, namespace="kube-system")) == 2
    )
    cluster.faults.heal("bad-kube-proxy-rollout")
    cluster.settle(timeout=1)
    status = cluster.store.get(resources.DAEMONSETS, "kube-system", "kube-proxy")["status"]
    assert (status["numberReady"], status["updatedNumberScheduled"]) == (5, 5)


@pytest.mark.parametrize(
    ("scenario", "service", "check"),
    [
        ("selector-mismatch", "web", lambda ep: "subsets" not in ep),
        ("wrong-target-port", "checkout", lambda ep: ep["subsets"][0]["ports"][0]["port"] == 8081),
        (
            "app-pods-not-ready",
            "checkout",
            lambda ep: (
                "addresses" not in ep["subsets"][0]
                and len(ep["subsets"][0]["notReadyAddresses"]) == 2
            ),
        ),
    ],
)
def test_service_scenarios_show_in_the_endpoints(scenario: str, service: str, check: Any) -> None:
    cluster = build_cluster(nodes=3, scenario=scenario, clock=FakeClock())
    assert check(cluster.store.get(resources.ENDPOINTS, "shop", service))
    cluster.faults.heal_all()
    cluster.clock.sleep(1)
    cluster.settle(timeout=1)
    [subset] = cluster.store.get(resources.ENDPOINTS, "shop", service)["subsets"]
    assert subset["ports"][0]["port"] == 8080
    assert len(subset["addresses"]) >= 2


def test_api_flaky_sets_the_api_faults() -> None:
    cluster = build_cluster(nodes=2, scenario="api-flaky", clock=FakeClock())
    assert (cluster.api_faults.throttle_rate, cluster.api_faults.error_rate) == (0.2, 0.1)
    cluster.faults.heal("api-flaky")
    assert cluster.api_faults.throttle_rate == 0


def test_a_large_cluster_is_seeded_consistently_in_one_pass() -> None:
    cluster = build_large_cluster(nodes=20, services=30, pods=100, namespaces=3)
    assert cluster.store.count(resources.PODS) == 120
    assert cluster.store.count(resources.ENDPOINTSLICES) == 30
    status = cluster.store.get(resources.DAEMONSETS, "kube-system", "kube-proxy")["status"]
    assert status["numberReady"] == 20
    ips = [
        p["status"]["podIP"]
        for p in cluster.store.list_objects(resources.PODS)
        if not p["spec"].get("hostNetwork")
    ]
    assert len(ips) == len(set(ips)) == 100
    cluster.settle()
    endpoints = cluster.store.get(resources.ENDPOINTS, "app-0", "svc-0")
    assert len(endpoints["subsets"][0]["addresses"]) == 4
