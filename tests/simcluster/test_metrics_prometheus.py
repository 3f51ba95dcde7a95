"""A real Prometheus scrapes the simulated cluster through HTTP SD and sees its faults.

Everything listens on 127.0.0.1; every wait is bounded. Needs the ``prometheus`` binary (Debian's
``prometheus`` package, which scripts/lib/bootstrap.sh installs); skipped without it.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from simcluster.scenarios import build_cluster
from simcluster.server import SimServer

RULES = Path(__file__).resolve().parents[2] / "deploy" / "prometheus" / "rules.yml"
_WAIT_SECONDS = 30.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _config(sim_url: str) -> str:
    return yaml.safe_dump(
        {
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
            "scrape_configs": [
                {
                    "job_name": "simcluster",
                    "honor_labels": True,
                    "http_sd_configs": [
                        {"url": f"{sim_url}/simcluster/metrics/targets", "refresh_interval": "1s"}
                    ],
                }
            ],
        }
    )


class Prometheus:
    """A running Prometheus, queried through its HTTP API."""

    def __init__(self, url: str) -> None:
        self.url = url

    def query(self, promql: str) -> list[dict[str, Any]]:
        """The instant vector of ``promql`` now."""
        answer = httpx.get(f"{self.url}/api/v1/query", params={"query": promql}, timeout=5)
        answer.raise_for_status()
        return list(answer.json()["data"]["result"])

    def wait_for(
        self, promql: str, done: Callable[[list[dict[str, Any]]], bool]
    ) -> list[dict[str, Any]]:
        """Query until ``done`` holds (bounded); returns the last result."""
        deadline = time.monotonic() + _WAIT_SECONDS
        result: list[dict[str, Any]] = []
        while time.monotonic() < deadline:
            try:
                result = self.query(promql)
            except httpx.HTTPError:
                result = []
            if done(result):
                return result
            time.sleep(0.5)
        pytest.fail(f"{promql} never got there; last result: {result}")


@pytest.fixture(scope="module")
def sim() -> Iterator[SimServer]:
    with SimServer(build_cluster(nodes=3), enforce_rbac=False) as server:
        yield server


@pytest.fixture(scope="module")
def prometheus(sim: SimServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Prometheus]:
    binary = shutil.which("prometheus")
    if binary is None:
        pytest.skip("prometheus is not installed (apt-get install prometheus)")
    folder = tmp_path_factory.mktemp("prometheus")
    (folder / "prometheus.yml").write_text(_config(sim.url))
    port = _free_port()
    with (folder / "prometheus.log").open("w") as log:
        process = subprocess.Popen(
            [
                binary,
                f"--config.file={folder / 'prometheus.yml'}",
                f"--storage.tsdb.path={folder / 'data'}",
                f"--web.listen-address=127.0.0.1:{port}",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        yield Prometheus(f"http://127.0.0.1:{port}")
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@pytest.fixture
def healed(sim: SimServer) -> Iterator[SimServer]:
    yield sim
    sim.cluster.faults.heal_all()


def _by_node(result: list[dict[str, Any]]) -> dict[str, str]:
    return {r["metric"].get("node", ""): r["value"][1] for r in result}


def _rule(name: str) -> str:
    if not RULES.is_file():
        pytest.skip(f"{RULES} is not there")
    for group in yaml.safe_load(RULES.read_text())["groups"]:
        for rule in group["rules"]:
            if name in (rule.get("record"), rule.get("alert")):
                return str(rule["expr"])
    pytest.skip(f"{RULES.name} has no rule {name}")


def test_prometheus_sees_one_nodes_kube_proxy_go_down(
    prometheus: Prometheus, healed: SimServer
) -> None:
    up = 'up{job="kube-proxy"}'
    prometheus.wait_for(up, lambda r: _by_node(r) == {f"node-{i}": "1" for i in (1, 2, 3)})
    httpx.post(
        f"{healed.url}/simcluster/faults/kube-proxy-down",
        json={"nodes": ["node-2"], "persistent": True},
        timeout=10,
    ).raise_for_status()
    result = prometheus.wait_for(up, lambda r: _by_node(r).get("node-2") == "0")
    assert _by_node(result) == {"node-1": "1", "node-2": "0", "node-3": "1"}
    down = prometheus.query(_rule("KubeProxyNodeDown"))
    assert [(r["metric"]["node"], r["metric"]["instance"]) for r in down] == [
        ("node-2", "172.18.0.4:10249")
    ]
    unavailable = 'kube_daemonset_status_number_unavailable{daemonset="kube-proxy"}'
    prometheus.wait_for(unavailable, lambda r: [x["value"][1] for x in r] == ["1"])


def test_the_service_down_rule_finds_the_service_with_no_ready_endpoint(
    prometheus: Prometheus, healed: SimServer
) -> None:
    expr = _rule("namespace_service:kube_endpoint_ready_addresses:absent")
    prometheus.wait_for('kube_endpoint_address{endpoint="web",ready="true"}', lambda r: len(r) == 3)
    assert prometheus.query(expr) == []
    healed.cluster.faults.selector_mismatch()
    result = prometheus.wait_for(expr, lambda r: len(r) > 0)
    assert [(r["metric"]["namespace"], r["metric"]["service"]) for r in result] == [("shop", "web")]


def test_the_conntrack_rule_finds_the_full_table_by_node(
    prometheus: Prometheus, healed: SimServer
) -> None:
    expr = _rule("ConntrackTableNearlyFull")
    prometheus.wait_for("node_nf_conntrack_entries", lambda r: len(r) == 3)
    assert prometheus.query(expr) == []
    healed.cluster.faults.conntrack_table_full(["node-3"])
    result = prometheus.wait_for(expr, lambda r: len(r) > 0)
    assert [(r["metric"]["node"], r["metric"]["instance"]) for r in result] == [
        ("node-3", "172.18.0.5:9100")
    ]
