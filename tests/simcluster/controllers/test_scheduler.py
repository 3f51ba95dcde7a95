"""The simulated scheduler places pods on Ready nodes that hold their requests, or says why not."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from simcluster import resources
from simcluster.clock import FakeClock
from simcluster.controllers.scheduler import (
    insufficient,
    parse_quantity,
    pod_requests,
    unschedulable_message,
)
from simcluster.scenarios import build_cluster

Obj = dict[str, Any]


def _pod(name: str, *, cpu: str | None = None, memory: str | None = None) -> Obj:
    requests = {k: v for k, v in (("cpu", cpu), ("memory", memory)) if v is not None}
    container: Obj = {"name": "app", "image": "registry.k8s.io/pause:3.9"}
    if requests:
        container["resources"] = {"requests": requests}
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": "shop", "labels": {"app": name}},
        "spec": {"containers": [container]},
    }


@pytest.mark.parametrize(
    ("text", "value"),
    [("250m", 0.25), ("2", 2.0), ("1.5", 1.5), ("128Mi", 128 * 2**20), ("1G", 1e9), ("x", 0.0)],
)
def test_a_quantity_reads_as_kubernetes_writes_it(text: str, value: float) -> None:
    assert parse_quantity(text) == value


def test_a_node_lacks_what_its_bound_pods_and_the_new_one_request_beyond_its_allocatable() -> None:
    node = {"status": {"allocatable": {"cpu": "3800m", "memory": "1Gi"}}}
    bound = [_pod("a", cpu="2"), _pod("b", cpu="1", memory="512Mi")]

    assert insufficient(node, pod_requests(_pod("c", cpu="500m")), bound) == []
    assert insufficient(node, pod_requests(_pod("d", cpu="1", memory="1Gi")), bound) == [
        "cpu",
        "memory",
    ]


def test_the_message_counts_the_nodes_by_reason() -> None:
    reasons = Counter(
        {"Insufficient cpu": 3, "node(s) didn't match Pod's node affinity/selector": 2}
    )
    assert unschedulable_message(5, reasons) == (
        "0/5 nodes are available: 3 Insufficient cpu, "
        "2 node(s) didn't match Pod's node affinity/selector."
    )


def test_a_pod_requesting_more_cpu_than_any_node_has_stays_pending_and_says_why() -> None:
    cluster = build_cluster(nodes=2, clock=FakeClock())

    cluster.create(_pod("big", cpu="8"))
    cluster.settle(timeout=1)

    pod = cluster.store.get(resources.PODS, "shop", "big")
    assert "nodeName" not in pod["spec"]
    assert pod["status"]["phase"] == "Pending"
    [scheduled] = pod["status"]["conditions"]
    assert (scheduled["type"], scheduled["status"], scheduled["reason"]) == (
        "PodScheduled",
        "False",
        "Unschedulable",
    )
    assert scheduled["message"] == "0/2 nodes are available: 2 Insufficient cpu."


def test_a_pod_that_fits_is_placed_and_the_next_one_waits_for_room() -> None:
    cluster = build_cluster(nodes=1, clock=FakeClock())

    cluster.create(_pod("first", cpu="3"))
    cluster.create(_pod("second", cpu="3"))
    cluster.settle(timeout=1)

    assert cluster.store.get(resources.PODS, "shop", "first")["spec"]["nodeName"] == "node-1"
    assert "nodeName" not in cluster.store.get(resources.PODS, "shop", "second")["spec"]
    cluster.delete(resources.PODS, "shop", "first")
    cluster.settle(timeout=1)
    assert cluster.store.get(resources.PODS, "shop", "second")["spec"]["nodeName"] == "node-1"
