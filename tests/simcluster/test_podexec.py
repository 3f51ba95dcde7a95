"""exec in simulated pods: conntrack, iptables-save, ipvsadm and unknown commands."""

from __future__ import annotations

from typing import Any

import pytest

from simcluster import resources
from simcluster.clock import FakeClock
from simcluster.cluster import SimCluster
from simcluster.errors import BadRequestError, NotFoundError
from simcluster.proxyrules import ServicePort, service_chain
from simcluster.scenarios import build_cluster

Obj = dict[str, Any]


@pytest.fixture
def cluster() -> SimCluster:
    return build_cluster(nodes=3, clock=FakeClock())


def _proxy(cluster: SimCluster, node: str = "node-1") -> str:
    pods = cluster.store.list_objects(resources.PODS, namespace="kube-system")
    return str(
        next(
            p["metadata"]["name"]
            for p in pods
            if p["metadata"]["labels"].get("k8s-app") == "kube-proxy"
            and p["spec"]["nodeName"] == node
        )
    )


def _exec(cluster: SimCluster, pod: str, *command: str) -> Any:
    return cluster.exec_in_pod("kube-system", pod, container=None, command=list(command))


def test_conntrack_lists_flows_to_service_vips(cluster: SimCluster) -> None:
    dns_ip = cluster.store.get(resources.SERVICES, "kube-system", "kube-dns")["spec"]["clusterIP"]
    result = _exec(cluster, _proxy(cluster), "conntrack", "-L", "-p", "udp", "--orig-dst", dns_ip)
    lines = result.stdout.splitlines()
    assert result.exit_code == 0
    assert lines
    assert all(line.startswith("udp") and f"dst={dns_ip}" in line for line in lines)
    assert f"{len(lines)} flow entries have been shown." in result.stderr


def test_conntrack_delete_removes_matches_and_a_second_delete_is_a_no_op(
    cluster: SimCluster,
) -> None:
    proxy = _proxy(cluster)
    dns_ip = cluster.store.get(resources.SERVICES, "kube-system", "kube-dns")["spec"]["clusterIP"]
    count = int(_exec(cluster, proxy, "conntrack", "-C").stdout)
    deleted = _exec(cluster, proxy, "conntrack", "-D", "-p", "udp", "--orig-dst", dns_ip)
    removed = len(deleted.stdout.splitlines())
    assert deleted.exit_code == 0
    assert removed > 0
    assert int(_exec(cluster, proxy, "conntrack", "-C").stdout) == count - removed
    again = _exec(cluster, proxy, "conntrack", "-D", "-p", "udp", "--orig-dst", dns_ip)
    assert again.exit_code == 1
    assert "0 flow entries have been deleted." in again.stderr


def test_a_deleted_pod_leaves_stale_conntrack_entries(cluster: SimCluster) -> None:
    web = next(
        p
        for p in cluster.store.list_objects(resources.PODS, namespace="shop")
        if p["metadata"]["labels"]["app"] == "web"
    )
    cluster.store.delete(resources.PODS, "shop", web["metadata"]["name"])
    cluster.settle()
    stale = _exec(
        cluster, _proxy(cluster), "conntrack", "-L", "--reply-src", web["status"]["podIP"]
    )
    assert stale.stdout.strip()
    assert stale.exit_code == 0


def test_conntrack_flush_empties_the_table(cluster: SimCluster) -> None:
    proxy = _proxy(cluster)
    assert _exec(cluster, proxy, "conntrack", "-F").stderr.endswith(
        "connection tracking table has been emptied.\n"
    )
    assert _exec(cluster, proxy, "conntrack", "-C").stdout == "0\n"


def test_iptables_save_has_chains_for_services_with_endpoints(cluster: SimCluster) -> None:
    web = cluster.store.get(resources.SERVICES, "shop", "web")["spec"]
    rules = _exec(cluster, _proxy(cluster), "iptables-save").stdout
    chain = service_chain(ServicePort("shop", "web", "http", "TCP", web["clusterIP"], 80, None, ()))
    comment = '-m comment --comment "shop/web:http cluster IP"'
    assert f"-A KUBE-SERVICES -d {web['clusterIP']}/32 -p tcp {comment}" in rules
    assert rules.count(f"-A {chain} ") == 4  # masquerade + three endpoints
    assert rules.count("-j DNAT --to-destination") >= 3


def test_iptables_rules_go_stale_on_a_node_whose_kube_proxy_is_down(cluster: SimCluster) -> None:
    cluster.faults.kube_proxy_down(["node-2"])
    cluster.store.delete(resources.SERVICES, "shop", "web")
    cluster.settle(timeout=1)
    healthy = _exec(
        cluster, _proxy(cluster, "node-1"), "sh", "-c", "iptables-save | grep shop/web | wc -l"
    )
    assert healthy.stdout == "0\n"
    frozen = cluster.faults.frozen_rules("node-2")
    assert frozen is not None
    assert any(p.service == "web" for p in frozen)


def test_ipvsadm_shows_an_empty_table_in_iptables_mode(cluster: SimCluster) -> None:
    out = _exec(cluster, _proxy(cluster), "ipvsadm", "-Ln").stdout
    assert out.startswith("IP Virtual Server version 1.2.1")
    assert len(out.splitlines()) == 3


def test_an_unknown_command_exits_127_like_the_runtime(cluster: SimCluster) -> None:
    result = _exec(cluster, _proxy(cluster), "tcpdump", "-i", "any")
    assert result.exit_code == 127
    assert 'exec: "tcpdump": executable file not found in $PATH' in result.stderr


def test_exec_needs_an_existing_running_container(cluster: SimCluster) -> None:
    with pytest.raises(NotFoundError):
        _exec(cluster, "kube-proxy-nope", "true")
    with pytest.raises(BadRequestError, match="container nope is not valid"):
        cluster.exec_in_pod("kube-system", _proxy(cluster), container="nope", command=["true"])
    cluster.faults.kube_proxy_down(["node-3"])
    cluster.settle(timeout=1)
    with pytest.raises(BadRequestError, match="container not found"):
        _exec(cluster, _proxy(cluster, "node-3"), "iptables-save")
