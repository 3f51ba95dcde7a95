"""Pod logs: kube-proxy's klog lines, failures, tail and previous."""

from __future__ import annotations

import re

import pytest

from simcluster import resources
from simcluster.clock import FakeClock
from simcluster.cluster import SimCluster
from simcluster.errors import BadRequestError
from simcluster.scenarios import build_cluster

KLOG = re.compile(r"^[IWEF]\d{4} \d{2}:\d{2}:\d{2}\.\d{6}       1 [a-z_]+\.go:\d+\] ")


def _proxy(cluster: SimCluster, node: str) -> str:
    pods = cluster.store.list_objects(resources.PODS, namespace="kube-system")
    return str(
        next(
            p["metadata"]["name"]
            for p in pods
            if p["metadata"]["labels"].get("k8s-app") == "kube-proxy"
            and p["spec"]["nodeName"] == node
        )
    )


def _log(cluster: SimCluster, pod: str, *, tail: int | None = None, previous: bool = False) -> str:
    return cluster.read_pod_log(
        "kube-system", pod, container=None, tail_lines=tail, previous=previous
    )


def test_a_healthy_kube_proxy_logs_startup_and_syncs_in_klog_format() -> None:
    clock = FakeClock()
    cluster = build_cluster(nodes=2, clock=clock)
    clock.advance(95)
    lines = _log(cluster, _proxy(cluster, "node-1")).splitlines()
    assert all(KLOG.match(line) for line in lines)
    assert any('"Using iptables Proxier"' in line for line in lines)
    assert sum('"SyncProxyRules complete"' in line for line in lines) == 4


def test_tail_lines_keeps_the_last_lines() -> None:
    cluster = build_cluster(nodes=2, clock=FakeClock())
    full = _log(cluster, _proxy(cluster, "node-1")).splitlines()
    assert _log(cluster, _proxy(cluster, "node-1"), tail=2).splitlines() == full[-2:]


def test_a_failing_kube_proxy_logs_iptables_restore_errors() -> None:
    cluster = build_cluster(nodes=3, scenario="kube-proxy-down", clock=FakeClock())
    node = cluster.faults.active()["kube-proxy-down"]["nodes"][0]
    log = _log(cluster, _proxy(cluster, node), previous=True)
    assert '"Failed to execute iptables-restore" err="exit status 1' in log
    assert '"Sync failed"' in log


def test_previous_needs_a_terminated_container() -> None:
    cluster = build_cluster(nodes=2, clock=FakeClock())
    with pytest.raises(BadRequestError, match='previous terminated container "kube-proxy"'):
        _log(cluster, _proxy(cluster, "node-1"), previous=True)


def test_a_crash_looping_bad_image_says_why() -> None:
    cluster = build_cluster(nodes=2, scenario="bad-kube-proxy-rollout", clock=FakeClock())
    pods = cluster.store.list_objects(resources.PODS, namespace="kube-system")
    broken = next(p for p in pods if p["spec"]["containers"][0]["image"].endswith("-broken"))
    assert "exec format error" in _log(cluster, broken["metadata"]["name"])
