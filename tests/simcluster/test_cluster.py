"""SimCluster as a whole: its controller thread, and create with admission and allocation."""

from __future__ import annotations

import pytest

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
