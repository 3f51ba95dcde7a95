"""The exporters over HTTP: exposition answers, down targets, the HTTP SD listing, promtool."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.testclient import TestClient

from simcluster.clock import FakeClock
from simcluster.cluster import SimCluster
from simcluster.metrics import metrics_routes
from simcluster.scenarios import build_cluster
from simcluster.server import SimServer
from tests.simcluster.metrics_samples import promtool_problems

EXPOSITION = "text/plain; version=0.0.4; charset=utf-8"
# kube-proxy names this gauge with a counter's suffix; promtool says so of the real one too.
UPSTREAM_LINT = {
    'kubeproxy_sync_proxy_rules_iptables_total non-counter metrics should not have "_total" suffix'
}
ENDPOINTS = [
    "/simcluster/metrics/kube-state-metrics",
    "/simcluster/metrics/kube-proxy/node-1",
    "/simcluster/metrics/node-exporter/node-1",
]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def cluster(clock: FakeClock) -> SimCluster:
    built = build_cluster(nodes=3, clock=clock)
    clock.advance(40)
    return built


@pytest.fixture
def client(cluster: SimCluster) -> Iterator[TestClient]:
    app = Starlette(routes=[Mount("/simcluster", routes=metrics_routes(cluster.metrics))])
    with TestClient(app) as client:
        yield client


@pytest.mark.parametrize("path", ENDPOINTS)
def test_every_exporter_answers_in_the_text_exposition_format(
    client: TestClient, path: str
) -> None:
    answer = client.get(path)
    assert answer.status_code == 200
    assert answer.headers["content-type"] == EXPOSITION
    assert answer.text.startswith("# HELP ")


@pytest.mark.parametrize("path", ENDPOINTS)
def test_promtool_finds_nothing_wrong_with_any_exporter(client: TestClient, path: str) -> None:
    assert set(promtool_problems(client.get(path).text)) <= UPSTREAM_LINT


def test_promtool_finds_nothing_wrong_with_a_faulted_cluster(
    client: TestClient, cluster: SimCluster, clock: FakeClock
) -> None:
    cluster.faults.bad_kube_proxy_rollout()
    cluster.faults.app_pods_not_ready()
    cluster.faults.conntrack_table_full(["node-1"])
    cluster.settle(timeout=1.0)
    clock.advance(5)
    for path in ENDPOINTS[::2]:
        assert promtool_problems(client.get(path).text) == []


def test_a_crash_looping_kube_proxy_answers_503(client: TestClient, cluster: SimCluster) -> None:
    cluster.faults.kube_proxy_down(["node-2"])
    cluster.settle(timeout=1.0)
    answer = client.get("/simcluster/metrics/kube-proxy/node-2")
    assert answer.status_code == 503
    assert "not running on node node-2" in answer.text
    assert client.get("/simcluster/metrics/kube-proxy/node-1").status_code == 200


@pytest.mark.parametrize("exporter", ["kube-proxy", "node-exporter"])
def test_an_unknown_node_is_404(client: TestClient, exporter: str) -> None:
    answer = client.get(f"/simcluster/metrics/{exporter}/node-9")
    assert answer.status_code == 404
    assert 'nodes "node-9" not found' in answer.text


def test_the_targets_list_every_exporter_in_http_sd_format(client: TestClient) -> None:
    groups = client.get("/simcluster/metrics/targets").json()
    assert groups[0] == {
        "targets": ["testserver"],
        "labels": {
            "job": "kube-state-metrics",
            "instance": "kube-state-metrics.kube-system.svc:8080",
            "__metrics_path__": "/simcluster/metrics/kube-state-metrics",
            "__scheme__": "http",
        },
    }
    proxy = next(g for g in groups if g["labels"].get("node") == "node-2")
    assert proxy == {
        "targets": ["testserver"],
        "labels": {
            "job": "kube-proxy",
            "instance": "172.18.0.4:10249",
            "__metrics_path__": "/simcluster/metrics/kube-proxy/node-2",
            "__scheme__": "http",
            "node": "node-2",
        },
    }
    jobs = [(g["labels"]["job"], g["labels"].get("node")) for g in groups]
    assert sorted(jobs, key=str) == sorted(
        [("kube-state-metrics", None)]
        + [(job, f"node-{i}") for job in ("kube-proxy", "node-exporter") for i in (1, 2, 3)],
        key=str,
    )


@pytest.mark.parametrize(
    ("job", "count"), [("kube-proxy", 3), ("node-exporter", 3), ("kube-state-metrics", 1)]
)
def test_the_targets_can_be_asked_for_one_job(client: TestClient, job: str, count: int) -> None:
    groups = client.get("/simcluster/metrics/targets", params={"job": job}).json()
    assert len(groups) == count
    assert {g["labels"]["job"] for g in groups} == {job}


def test_asking_for_an_unknown_job_is_400(client: TestClient) -> None:
    answer = client.get("/simcluster/metrics/targets", params={"job": "kubelet"})
    assert answer.status_code == 400
    assert "kube-proxy" in answer.text


def test_a_crash_looping_kube_proxy_stays_listed_so_its_up_goes_to_0(
    client: TestClient, cluster: SimCluster
) -> None:
    cluster.faults.kube_proxy_down(["node-2"])
    cluster.settle(timeout=1.0)
    groups = client.get("/simcluster/metrics/targets", params={"job": "kube-proxy"}).json()
    assert [g["labels"]["node"] for g in groups] == ["node-1", "node-2", "node-3"]


def test_the_served_cluster_lists_targets_it_answers_on() -> None:
    with SimServer(build_cluster(nodes=2), enforce_rbac=False) as server:
        groups = httpx.get(f"{server.url}/simcluster/metrics/targets", timeout=10).json()
        assert {address for g in groups for address in g["targets"]} == {
            server.url.removeprefix("http://")
        }
        for group in groups:
            path = group["labels"]["__metrics_path__"]
            answer = httpx.get(f"{server.url}{path}", timeout=10)
            assert answer.status_code == 200, path
