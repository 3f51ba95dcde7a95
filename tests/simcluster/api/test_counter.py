"""The request counter tallies API requests by Kubernetes verb and resource."""

from __future__ import annotations

import threading

from simcluster.cluster import SimCluster
from simcluster.counter import RequestCounter
from tests.simcluster.api import manifests
from tests.simcluster.api.clusters import CoreApi


def test_counts_accumulate_per_verb_and_resource() -> None:
    counter = RequestCounter()
    counter.record("get", "pods")
    counter.record("get", "pods")
    counter.record("list", "pods")
    counter.record("get", "pods/log")
    assert counter.snapshot() == {("get", "pods"): 2, ("list", "pods"): 1, ("get", "pods/log"): 1}
    assert counter.total(verb="get") == 3
    assert counter.total(resource="pods") == 3
    assert counter.total() == 4


def test_concurrent_records_are_all_counted() -> None:
    counter = RequestCounter()

    def record_many() -> None:
        for _ in range(1000):
            counter.record("watch", "services")

    threads = [threading.Thread(target=record_many) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert counter.total(verb="watch", resource="services") == 4000


def test_reset_forgets_every_count() -> None:
    counter = RequestCounter()
    counter.record("delete", "pods")
    counter.reset()
    assert counter.snapshot() == {}


def test_api_requests_are_counted_by_verb_and_resource(cluster: SimCluster, core: CoreApi) -> None:
    cluster.requests.reset()
    core.create_namespaced_pod("default", manifests.pod("web-1"))
    core.read_namespaced_pod("web-1", "default")
    core.read_namespaced_pod_status("web-1", "default")
    core.list_namespaced_pod("default")
    core.delete_namespaced_pod("web-1", "default")
    assert cluster.requests.snapshot() == {
        ("create", "pods"): 1,
        ("get", "pods"): 1,
        ("get", "pods/status"): 1,
        ("list", "pods"): 1,
        ("delete", "pods"): 1,
    }
