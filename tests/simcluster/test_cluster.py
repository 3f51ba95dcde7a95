"""SimCluster as a whole: its controller thread, create, and the fault-injection HTTP routes."""

from __future__ import annotations

import pytest
from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.testclient import TestClient

from simcluster import resources
from simcluster.clock import FakeClock
from simcluster.cluster import SimCluster
from simcluster.errors import AlreadyExistsError, InvalidError
from simcluster.kubesystem import kube_proxy_daemonset
from simcluster.manifests import namespace, node
from simcluster.scenarios import build_cluster


def test_the_controller_thread_converges_on_the_real_clock() -> None:
    cluster = SimCluster()
    cluster.start()
    try:
        for obj in (
            namespace("kube-system"),
            node(1, created="2024-11-25T18:00:00Z"),
            kube_proxy_daemonset(),
        ):
            cluster.create(obj)
        cluster.settle(timeout=5)
        status = cluster.store.get(resources.DAEMONSETS, "kube-system", "kube-proxy")["status"]
        assert status["numberReady"] == 1
    finally:
        cluster.stop()


def test_creating_a_duplicate_service_keeps_the_first_ones_address() -> None:
    cluster = build_cluster(nodes=1, clock=FakeClock())
    web = cluster.store.get(resources.SERVICES, "shop", "web")
    duplicate = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "web", "namespace": "shop"},
        "spec": {"ports": [{"port": 80}], "clusterIP": web["spec"]["clusterIP"]},
    }
    with pytest.raises(AlreadyExistsError):
        cluster.create(duplicate)
    other = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "other", "namespace": "shop"},
        "spec": {"ports": [{"port": 80}], "clusterIP": web["spec"]["clusterIP"]},
    }
    with pytest.raises(InvalidError, match="provided IP is already allocated"):
        cluster.create(other)


def test_faults_are_injected_listed_and_healed_over_http() -> None:
    cluster = build_cluster(nodes=3, clock=FakeClock())
    app = Starlette(routes=[Mount("/simcluster", routes=cluster.admin_routes())])
    with TestClient(app) as client:
        created = client.post(
            "/simcluster/faults/kube-proxy-down", json={"nodes": ["node-3"], "persistent": True}
        )
        assert created.status_code == 201
        assert created.json()["details"] == {"nodes": ["node-3"], "persistent": True}
        assert client.get("/simcluster/faults").json()["active"] == {
            "kube-proxy-down": {"nodes": ["node-3"], "persistent": True}
        }
        assert client.post("/simcluster/faults/no-such-fault", json={}).status_code == 404
        missing = client.post("/simcluster/faults/selector-mismatch", json={"service": "nope"})
        assert missing.status_code == 404
        assert missing.json()["reason"] == "NotFound"
        assert client.delete("/simcluster/faults/kube-proxy-down").json() == {
            "healed": ["kube-proxy-down"]
        }
        assert client.delete("/simcluster/faults/kube-proxy-down").status_code == 404
        client.post("/simcluster/faults/api-flaky", json={"error_rate": 0.5, "throttle_rate": 0})
        assert cluster.api_faults.error_rate == 0.5
        assert client.post("/simcluster/heal").json() == {"healed": ["api-flaky"]}
