"""node-exporter's conntrack series follow each node's table, and a full table shows as full."""

from __future__ import annotations

import pytest

from simcluster.clock import FakeClock
from simcluster.cluster import SimCluster
from simcluster.conntrack import DEFAULT_LIMIT
from simcluster.scenarios import build_cluster
from tests.simcluster.metrics_samples import parse, value

ENTRIES = "node_nf_conntrack_entries"
LIMIT = "node_nf_conntrack_entries_limit"


@pytest.fixture
def cluster() -> SimCluster:
    return build_cluster(nodes=3, clock=FakeClock())


def fill_ratio(cluster: SimCluster, node: str) -> float:
    text = cluster.metrics.node_exporter(node)
    return value(text, ENTRIES) / value(text, LIMIT)


def exec_in_proxy(cluster: SimCluster, node: str, *command: str) -> str:
    pod = cluster.kube_proxies.pods([node])[0]["metadata"]["name"]
    return cluster.pod_exec.run("kube-system", pod, container=None, command=list(command)).stdout


def test_the_series_are_node_exporters_unlabelled_gauges(cluster: SimCluster) -> None:
    series = parse(cluster.metrics.node_exporter("node-1"))
    assert [(s.name, s.type, s.labels) for s in series] == [
        (ENTRIES, "gauge", {}),
        (LIMIT, "gauge", {}),
    ]


def test_the_entries_are_the_nodes_table_as_conntrack_counts_it(cluster: SimCluster) -> None:
    text = cluster.metrics.node_exporter("node-1")
    assert value(text, ENTRIES) == int(exec_in_proxy(cluster, "node-1", "conntrack", "-C"))
    assert value(text, LIMIT) == DEFAULT_LIMIT
    assert fill_ratio(cluster, "node-1") < 0.01


def test_a_full_table_is_near_its_limit_on_that_node_only(cluster: SimCluster) -> None:
    details = cluster.faults.conntrack_table_full(["node-2"])
    assert details["nodes"] == ["node-2"]
    assert details["limit"] == 16384
    assert 0.9 < fill_ratio(cluster, "node-2") <= 0.95
    assert fill_ratio(cluster, "node-1") < 0.01
    limit = exec_in_proxy(cluster, "node-2", "cat", "/proc/sys/net/netfilter/nf_conntrack_max")
    assert limit == "16384\n"


def test_deleting_the_stale_entries_empties_a_full_table(cluster: SimCluster) -> None:
    cluster.faults.conntrack_table_full(["node-2"], fraction=0.99, limit=4096)
    gone = cluster.conntrack.flows("node-2")[-1].reply_src
    exec_in_proxy(cluster, "node-2", "conntrack", "-D", "--reply-src", gone)
    assert fill_ratio(cluster, "node-2") < 0.01
    cluster.faults.heal_all()
    assert value(cluster.metrics.node_exporter("node-2"), LIMIT) == DEFAULT_LIMIT


def test_healing_a_full_table_restores_the_entries_and_limit(cluster: SimCluster) -> None:
    before = cluster.metrics.node_exporter("node-2")
    cluster.faults.conntrack_table_full(["node-2"], fraction=1.0, limit=2048)
    assert fill_ratio(cluster, "node-2") == 1.0
    cluster.faults.heal("conntrack-table-full")
    assert cluster.metrics.node_exporter("node-2") == before


@pytest.mark.parametrize(
    ("fraction", "limit"), [(0.0, 1000), (1.5, 1000), (0.9, 0), (0.9, 10.5), (0.9, "many")]
)
def test_a_full_table_needs_a_fraction_and_a_positive_limit(
    cluster: SimCluster, fraction: float, limit: object
) -> None:
    faults = cluster.faults  # a limit that is no int, on purpose: the fault API may be sent one
    with pytest.raises(ValueError, match="fraction must be in"):
        faults.conntrack_table_full(fraction=fraction, limit=limit)  # type: ignore[arg-type]  # on purpose
    assert cluster.faults.active() == {}
