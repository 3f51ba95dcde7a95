"""A node's kube-proxy rules follow the Services, except while a fault has frozen them stale."""

from __future__ import annotations

import pytest

from simcluster import resources
from simcluster.clock import FakeClock
from simcluster.cluster import SimCluster
from simcluster.kubeproxy import KubeProxies
from simcluster.scenarios import build_cluster
from simcluster.store import Store


@pytest.fixture
def cluster() -> SimCluster:
    return build_cluster(nodes=3, clock=FakeClock())


def _services(cluster: SimCluster, node: str) -> set[str]:
    return {f"{p.namespace}/{p.service}" for p in cluster.kube_proxies.rules(node)}


def test_a_node_in_sync_has_the_current_rules(cluster: SimCluster) -> None:
    proxies = cluster.kube_proxies
    assert proxies.stale_rules("node-1") is None
    assert proxies.rules("node-1") == proxies.current_rules()
    assert {"shop/web", "shop/checkout", "kube-system/kube-dns"} <= _services(cluster, "node-1")


def test_frozen_nodes_keep_the_rules_of_when_they_froze(cluster: SimCluster) -> None:
    cluster.kube_proxies.freeze(["node-2"], wedged={})
    cluster.store.delete(resources.SERVICES, "shop", "web")
    assert "shop/web" in _services(cluster, "node-2")
    assert "shop/web" not in _services(cluster, "node-1")


def test_freezing_a_frozen_node_again_keeps_its_first_snapshot(cluster: SimCluster) -> None:
    cluster.kube_proxies.freeze(["node-2"], wedged={})
    cluster.store.delete(resources.SERVICES, "shop", "web")
    cluster.kube_proxies.freeze(["node-2", "node-3"], wedged={})
    assert "shop/web" in _services(cluster, "node-2")
    assert "shop/web" not in _services(cluster, "node-3")


def test_thawed_nodes_sync_again(cluster: SimCluster) -> None:
    cluster.kube_proxies.freeze(["node-2", "node-3"], wedged={})
    cluster.store.delete(resources.SERVICES, "shop", "web")
    cluster.kube_proxies.thaw(["node-2"])
    assert cluster.kube_proxies.stale_rules("node-2") is None
    assert "shop/web" not in _services(cluster, "node-2")
    assert cluster.kube_proxies.stale_rules("node-3") is not None


def test_a_wedged_nodes_rules_resync_once_a_replacement_pod_runs(cluster: SimCluster) -> None:
    [stuck] = cluster.kube_proxies.pods(["node-2"])
    cluster.kube_proxies.freeze(
        ["node-2"], wedged={"node-2": frozenset({stuck["metadata"]["uid"]})}
    )
    assert cluster.kube_proxies.stale_rules("node-2") is not None
    cluster.store.delete(resources.PODS, "kube-system", stuck["metadata"]["name"])
    cluster.settle(timeout=1)
    [replacement] = cluster.kube_proxies.pods(["node-2"])
    assert replacement["metadata"]["uid"] != stuck["metadata"]["uid"]
    assert cluster.kube_proxies.stale_rules("node-2") is None


@pytest.mark.parametrize(
    ("nodes", "found"),
    [([], []), (["node-2"], ["node-2"]), (["node-1", "node-3", "node-9"], ["node-1", "node-3"])],
)
def test_pods_are_the_kube_proxy_pods_on_the_nodes(
    cluster: SimCluster, nodes: list[str], found: list[str]
) -> None:
    pods = cluster.kube_proxies.pods(nodes)
    assert sorted(p["spec"]["nodeName"] for p in pods) == found
    assert all(p["metadata"]["labels"]["k8s-app"] == "kube-proxy" for p in pods)


@pytest.mark.parametrize(
    ("config", "mode"),
    [
        (None, "iptables"),
        ("mode: iptables\n", "iptables"),
        ("mode: ipvs\n", "ipvs"),
        ("mode: ''\n", "iptables"),
        ("kind: KubeProxyConfiguration\n", "iptables"),
    ],
)
def test_the_mode_comes_from_the_kube_proxy_config_map(config: str | None, mode: str) -> None:
    store = Store()
    store.create(resources.NAMESPACES, {"metadata": {"name": "kube-system"}})
    if config is not None:
        store.create(
            resources.CONFIGMAPS,
            {"metadata": {"name": "kube-proxy"}, "data": {"config.conf": config}},
            namespace="kube-system",
        )
    proxies = KubeProxies(store)
    assert proxies.config() == (config or "")
    assert proxies.mode() == mode
