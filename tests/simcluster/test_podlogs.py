"""Pod logs: kube-proxy's klog lines, app servers, failures, tail and previous, and why not."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from simcluster import resources
from simcluster.clock import FakeClock
from simcluster.cluster import SimCluster
from simcluster.errors import BadRequestError, NotFoundError
from simcluster.podlogs import klog, kube_proxy_syncs
from simcluster.scenarios import build_cluster
from simcluster.settings import SimSettings

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
    return cluster.pod_logs.read(
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


def _pod(name: str, *containers: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": "shop", "labels": {"app": "tool"}},
        "spec": {"containers": [{"name": c, "image": "registry.local/tool:1"} for c in containers]},
    }


@pytest.mark.parametrize(
    ("pod", "container", "message"),
    [
        (
            _pod("two", "app", "sidecar"),
            None,
            "a container name must be specified for pod two, choose one of: [app sidecar]",
        ),
        (_pod("one", "app"), "nope", "container nope is not valid for pod one"),
        (
            _pod("new", "app"),
            None,
            'container "app" in pod "new" is waiting to start: ContainerCreating',
        ),
    ],
)
def test_a_log_that_cannot_be_shown_is_a_bad_request_saying_why(
    pod: dict[str, Any], container: str | None, message: str
) -> None:
    cluster = build_cluster(nodes=1, clock=FakeClock())
    cluster.create(pod)  # not settled: the kubelet has not started it yet
    with pytest.raises(BadRequestError, match=re.escape(message)):
        cluster.pod_logs.read(
            "shop", pod["metadata"]["name"], container=container, tail_lines=None, previous=False
        )


def test_a_missing_pod_has_no_log() -> None:
    cluster = build_cluster(nodes=1, clock=FakeClock())
    with pytest.raises(NotFoundError):
        _log(cluster, "kube-proxy-ghost")


@pytest.mark.parametrize(
    ("scenario", "last_line"),
    [
        ("healthy", '"GET /healthz HTTP/1.1" 200'),
        ("app-pods-not-ready", '"GET /healthz HTTP/1.1" 503'),
    ],
)
def test_an_app_server_logs_its_health_checks(scenario: str, last_line: str) -> None:
    cluster = build_cluster(nodes=2, scenario=scenario, clock=FakeClock())
    checkout = next(
        p["metadata"]["name"]
        for p in cluster.store.list_objects(resources.PODS, namespace="shop")
        if p["metadata"]["labels"]["app"] == "checkout"
    )
    log = cluster.pod_logs.read("shop", checkout, container=None, tail_lines=None, previous=False)
    assert log.splitlines()[0].endswith(f'INFO starting server pod={checkout} addr=":8080"')
    assert log.splitlines()[-1].endswith(last_line)


@pytest.mark.parametrize(("tail", "lines"), [(0, 0), (1, 1), (10_000, None)])
def test_tail_lines_bounds_the_log(tail: int, lines: int | None) -> None:
    cluster = build_cluster(nodes=1, clock=FakeClock())
    proxy = _proxy(cluster, "node-1")
    full = _log(cluster, proxy).splitlines()
    assert len(_log(cluster, proxy, tail=tail).splitlines()) == (
        len(full) if lines is None else lines
    )


def test_klog_lines_carry_level_date_time_and_source() -> None:
    at = datetime(2024, 11, 25, 18, 17, 20, 123456, tzinfo=UTC)
    assert klog("E", at, "proxier.go:1525", '"Sync failed"') == (
        'E1125 18:17:20.123456       1 proxier.go:1525] "Sync failed"'
    )


@pytest.mark.parametrize(
    ("minutes", "syncs", "lines"),
    [(0, 1, 3), (1, 3, 9), (60, 121, 363), (600, 134, 400)],  # capped: the last 400 lines
)
def test_a_healthy_kube_proxy_syncs_every_thirty_seconds_and_the_log_is_capped(
    minutes: int, syncs: int, lines: int
) -> None:
    start = datetime(2024, 11, 25, 18, 0, 0, tzinfo=UTC)
    log = kube_proxy_syncs(start, start + timedelta(minutes=minutes), services=3, endpoints=5)
    assert sum('"SyncProxyRules complete"' in line for line in log) == syncs
    assert len(log) == lines
    assert "numServices=3 numEndpoints=5" in log[-2]


def test_a_crash_looping_app_says_its_configuration_is_missing() -> None:
    settings = SimSettings(crashing_images=frozenset({"registry.local/tool:1"}))
    cluster = build_cluster(nodes=1, settings=settings, clock=FakeClock())
    cluster.create(_pod("tool", "app"))
    cluster.settle(timeout=5)
    log = cluster.pod_logs.read("shop", "tool", container="app", tail_lines=None, previous=True)
    assert "ERROR failed to load configuration" in log
    assert log.endswith("panic: configuration error: exiting with status 1\n")
