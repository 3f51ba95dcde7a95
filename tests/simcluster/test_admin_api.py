"""The fault routes inject, list and heal faults over HTTP, answering bad requests with 4xx."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.testclient import TestClient

from simcluster.admin_api import admin_routes
from simcluster.clock import FakeClock
from simcluster.cluster import SimCluster
from simcluster.scenarios import build_cluster

FAULTS = [
    "api-flaky",
    "app-pods-not-ready",
    "bad-kube-proxy-rollout",
    "conntrack-table-full",
    "kube-proxy-down",
    "kube-proxy-rules-stale",
    "selector-mismatch",
    "wrong-target-port",
]


@pytest.fixture
def cluster() -> SimCluster:
    return build_cluster(nodes=3, clock=FakeClock())


@pytest.fixture
def client(cluster: SimCluster) -> Iterator[TestClient]:
    app = Starlette(routes=[Mount("/simcluster", routes=admin_routes(cluster.faults))])
    with TestClient(app) as client:
        yield client


@pytest.mark.parametrize(
    ("fault", "body", "details"),
    [
        (
            "kube-proxy-down",
            {"nodes": ["node-3"], "persistent": True},
            {"nodes": ["node-3"], "persistent": True},
        ),
        (
            "bad-kube-proxy-rollout",
            {"image": "registry.local/kube-proxy:bad"},
            {
                "image": "registry.local/kube-proxy:bad",
                "previous_image": "registry.k8s.io/kube-proxy:v1.30.4",
                "crashing_images_added": ["registry.local/kube-proxy:bad"],
            },
        ),
        (
            "selector-mismatch",
            {"selector": {"app": "web-v3"}, "ignored": True},
            {
                "namespace": "shop",
                "service": "web",
                "selector": {"app": "web-v3"},
                "original": {"app": "web"},
            },
        ),
        (
            "wrong-target-port",
            {"target_port": 9999},
            {"namespace": "shop", "service": "checkout", "target_port": 9999, "original": "http"},
        ),
        ("app-pods-not-ready", None, {"namespace": "shop", "selector": "app=checkout"}),
        ("kube-proxy-rules-stale", {"nodes": ["node-3"]}, {"nodes": ["node-3"]}),
        (
            "conntrack-table-full",
            {"nodes": ["node-1"], "limit": 1000, "fraction": 0.95},
            {"nodes": ["node-1"], "limit": 1000, "entries": {"node-1": 950}},
        ),
        (
            "api-flaky",
            {"error_rate": 0.5, "throttle_rate": 0},
            {"throttle_rate": 0, "error_rate": 0.5, "latency_seconds": 0.0},
        ),
    ],
)
def test_posting_a_fault_injects_it_with_the_options_of_the_body(
    client: TestClient, fault: str, body: dict[str, Any] | None, details: dict[str, Any]
) -> None:
    created = client.post(f"/simcluster/faults/{fault}", json=body)
    assert created.status_code == 201
    assert created.json() == {"fault": fault, "details": details}
    assert client.get("/simcluster/faults").json() == {
        "active": {fault: details},
        "available": FAULTS,
    }


@pytest.mark.parametrize(
    ("fault", "content", "status", "says"),
    [
        ("no-such-fault", b"{}", 404, "unknown fault 'no-such-fault'"),
        ("api-flaky", b"{not json", 400, "the body must be a JSON object"),
        ("api-flaky", b"[0.5]", 400, "the body must be a JSON object"),
        ("app-pods-not-ready", b'{"selector": "app in (web"}', 400, "unbalanced '('"),
        ("kube-proxy-down", b'{"nodes": 3}', 400, "not iterable"),
        ("conntrack-table-full", b'{"fraction": 2}', 400, "fraction must be in (0, 1]"),
        ("selector-mismatch", b'{"service": "nope"}', 404, 'services "nope" not found'),
    ],
)
def test_a_bad_request_is_answered_4xx_and_injects_nothing(
    client: TestClient, fault: str, content: bytes, status: int, says: str
) -> None:
    answer = client.post(f"/simcluster/faults/{fault}", content=content)
    assert answer.status_code == status
    assert says in (answer.json().get("error") or answer.json().get("message"))
    assert client.get("/simcluster/faults").json()["active"] == {}


def test_an_unknown_fault_lists_the_available_ones(client: TestClient) -> None:
    assert client.post("/simcluster/faults/typo", json={}).json()["available"] == FAULTS


def test_deleting_a_fault_heals_it_once(client: TestClient, cluster: SimCluster) -> None:
    client.post("/simcluster/faults/wrong-target-port", json={})
    assert client.delete("/simcluster/faults/wrong-target-port").json() == {
        "healed": ["wrong-target-port"]
    }
    again = client.delete("/simcluster/faults/wrong-target-port")
    assert again.status_code == 404
    assert again.json() == {"error": "fault 'wrong-target-port' is not active"}
    assert cluster.faults.active() == {}


def test_posting_heal_heals_every_fault(client: TestClient, cluster: SimCluster) -> None:
    client.post("/simcluster/faults/api-flaky", json={"error_rate": 0.5})
    client.post("/simcluster/faults/kube-proxy-down", json={"nodes": ["node-1"]})
    healed = client.post("/simcluster/heal").json()["healed"]
    assert sorted(healed) == ["api-flaky", "kube-proxy-down"]
    assert cluster.api_faults.error_rate == 0
    assert client.post("/simcluster/heal").json() == {"healed": []}
