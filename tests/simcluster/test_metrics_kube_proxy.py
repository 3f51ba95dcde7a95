"""Each node's kube-proxy target: its series, syncs that follow changes and time, and faults."""

from __future__ import annotations

import pytest

from simcluster import resources
from simcluster.clock import FakeClock
from simcluster.cluster import SimCluster
from simcluster.metrics.proxy_syncs import PROGRAMMING_BUCKETS, SYNC_BUCKETS, go_duration
from simcluster.scenarios import build_cluster
from tests.simcluster.metrics_samples import named, value

LAST_SYNC = "kubeproxy_sync_proxy_rules_last_timestamp_seconds"
PROGRAMMED = "kubeproxy_network_programming_duration_seconds_count"
FAILURES = "kubeproxy_sync_proxy_rules_iptables_restore_failures_total"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def cluster(clock: FakeClock) -> SimCluster:
    built = build_cluster(nodes=3, clock=clock)
    clock.advance(2)  # past every kube-proxy's first sync
    return built


def scrape(cluster: SimCluster, node: str = "node-1") -> str:
    text = cluster.metrics.kube_proxy(node)
    assert text is not None, f"kube-proxy on {node} is down"
    return text


def now(clock: FakeClock) -> float:
    return clock.now().timestamp()


@pytest.mark.parametrize(
    ("name", "type", "labels"),
    [
        ("kubeproxy_sync_proxy_rules_duration_seconds_bucket", "histogram", ["le"]),
        ("kubeproxy_sync_proxy_rules_duration_seconds_sum", "histogram", []),
        ("kubeproxy_sync_proxy_rules_duration_seconds_count", "histogram", []),
        ("kubeproxy_network_programming_duration_seconds_bucket", "histogram", ["le"]),
        ("kubeproxy_network_programming_duration_seconds_sum", "histogram", []),
        ("kubeproxy_network_programming_duration_seconds_count", "histogram", []),
        ("kubeproxy_sync_proxy_rules_last_timestamp_seconds", "gauge", []),
        ("kubeproxy_sync_proxy_rules_last_queued_timestamp_seconds", "gauge", []),
        ("kubeproxy_sync_proxy_rules_service_changes_total", "counter", []),
        ("kubeproxy_sync_proxy_rules_endpoint_changes_total", "counter", []),
        ("kubeproxy_sync_proxy_rules_iptables_restore_failures_total", "counter", []),
        ("kubeproxy_sync_proxy_rules_iptables_total", "gauge", ["table"]),
    ],
)
def test_each_series_has_its_kube_proxy_name_type_and_labels(
    cluster: SimCluster, name: str, type: str, labels: list[str]
) -> None:
    found = named(scrape(cluster), name)
    assert found, f"no {name} series"
    assert {s.type for s in found} == {type}
    assert {tuple(s.labels) for s in found} == {tuple(labels)}


@pytest.mark.parametrize(
    ("histogram", "buckets"),
    [
        ("kubeproxy_sync_proxy_rules_duration_seconds", SYNC_BUCKETS),
        ("kubeproxy_network_programming_duration_seconds", PROGRAMMING_BUCKETS),
    ],
)
def test_the_histograms_have_kube_proxys_buckets(
    cluster: SimCluster, histogram: str, buckets: list[float]
) -> None:
    text = scrape(cluster)
    bounds = [s.labels["le"] for s in named(text, f"{histogram}_bucket")]
    assert bounds == [*(format(b, "g") for b in buckets), "+Inf"]


def test_the_bucket_bounds_are_kube_proxys_exactly() -> None:
    assert SYNC_BUCKETS[:4] == [0.001, 0.002, 0.004, 0.008]
    assert SYNC_BUCKETS[-1] == 16.384
    assert len(SYNC_BUCKETS) == 15
    assert PROGRAMMING_BUCKETS[:4] == [0.25, 0.5, 1, 2]
    assert PROGRAMMING_BUCKETS[-8:] == [115, 120, 150, 180, 210, 240, 270, 300]
    assert len(PROGRAMMING_BUCKETS) == 80


def test_iptables_rules_are_counted_per_table(cluster: SimCluster) -> None:
    text = scrape(cluster)
    tables = {
        s.labels["table"]: s.value for s in named(text, "kubeproxy_sync_proxy_rules_iptables_total")
    }
    assert set(tables) == {"filter", "nat"}
    assert tables["nat"] > tables["filter"] > 0


def test_a_healthy_kube_proxy_syncs_at_least_every_sync_period(
    cluster: SimCluster, clock: FakeClock
) -> None:
    for _ in range(6):
        clock.advance(17)
        last = value(scrape(cluster), LAST_SYNC)
        assert now(clock) - 31 <= last <= now(clock)
    assert value(scrape(cluster), FAILURES) == 0


def test_an_endpoint_change_is_programmed_within_min_sync_period(
    cluster: SimCluster, clock: FakeClock
) -> None:
    clock.advance(5)
    before = scrape(cluster)
    changed_at = now(clock)
    cluster.faults.app_pods_not_ready()
    cluster.settle(timeout=0.5)
    clock.advance(1.5)
    after = scrape(cluster)
    assert changed_at <= value(after, LAST_SYNC) <= changed_at + 1.5
    assert value(after, PROGRAMMED) > value(before, PROGRAMMED)
    changes = "kubeproxy_sync_proxy_rules_endpoint_changes_total"
    assert value(after, changes) > value(before, changes)
    assert value(after, "kubeproxy_sync_proxy_rules_last_queued_timestamp_seconds") >= changed_at
    # Every latency observed is within the first few buckets: a healthy node programs at once.
    within_two_seconds = value(after, f"{PROGRAMMED[:-6]}_bucket", le="2")
    assert within_two_seconds == value(after, PROGRAMMED)


def test_stale_rules_stop_the_last_sync_while_the_pod_runs_and_answers(
    cluster: SimCluster, clock: FakeClock
) -> None:
    clock.advance(40)
    synced = value(scrape(cluster, "node-2"), LAST_SYNC)
    cluster.faults.kube_proxy_rules_stale(["node-2"])
    cluster.settle(timeout=0.5)
    for _ in range(4):
        clock.advance(30)
        cluster.faults.app_pods_not_ready()  # endpoint changes keep coming; none is programmed
        cluster.settle(timeout=0.5)
        stale = scrape(cluster, "node-2")
        assert value(stale, LAST_SYNC) == synced
    assert value(stale, FAILURES) >= 4
    assert value(scrape(cluster, "node-1"), LAST_SYNC) > synced + 100
    cluster.faults.heal("kube-proxy-rules-stale")
    clock.advance(31)
    assert value(scrape(cluster, "node-2"), LAST_SYNC) > synced + 100


def test_failed_syncs_lose_their_programming_latencies_as_kube_proxy_does(
    cluster: SimCluster, clock: FakeClock
) -> None:
    before = value(scrape(cluster, "node-2"), PROGRAMMED)
    cluster.faults.kube_proxy_rules_stale(["node-2"])
    cluster.faults.app_pods_not_ready()
    cluster.settle(timeout=0.5)
    clock.advance(60)
    assert value(scrape(cluster, "node-2"), PROGRAMMED) == before
    cluster.faults.heal("kube-proxy-rules-stale")
    clock.advance(31)
    assert value(scrape(cluster, "node-2"), PROGRAMMED) == before


def test_a_crash_looping_kube_proxy_has_no_target_to_scrape(
    cluster: SimCluster, clock: FakeClock
) -> None:
    cluster.faults.kube_proxy_down(["node-2"], persistent=True)
    cluster.settle(timeout=0.5)
    clock.advance(30)
    assert cluster.metrics.kube_proxy("node-2") is None
    assert cluster.metrics.kube_proxy("node-1") is not None


def test_a_replaced_kube_proxy_starts_its_metrics_from_zero(
    cluster: SimCluster, clock: FakeClock
) -> None:
    cluster.faults.kube_proxy_rules_stale(["node-2"])
    clock.advance(90)
    assert value(scrape(cluster, "node-2"), FAILURES) > 0
    cluster.faults.heal_all()
    pod = cluster.kube_proxies.pods(["node-2"])[0]["metadata"]["name"]
    cluster.delete(resources.PODS, "kube-system", pod)
    cluster.settle(timeout=1.0)
    clock.advance(2)
    fresh = scrape(cluster, "node-2")
    assert value(fresh, FAILURES) == 0
    assert value(fresh, "kubeproxy_sync_proxy_rules_duration_seconds_count") == 1
    assert value(fresh, LAST_SYNC) >= now(clock) - 2


def test_healing_a_wedged_kube_proxy_brings_its_target_back(
    cluster: SimCluster, clock: FakeClock
) -> None:
    cluster.faults.kube_proxy_down(["node-2"])
    cluster.settle(timeout=0.5)
    assert cluster.metrics.kube_proxy("node-2") is None
    cluster.faults.heal_all()
    cluster.settle(timeout=1.0)
    clock.advance(2)
    assert value(scrape(cluster, "node-2"), LAST_SYNC) >= now(clock) - 2


def test_in_ipvs_mode_kube_proxy_counts_no_iptables_rules(cluster: SimCluster) -> None:
    def ipvs(config_map: dict[str, dict[str, str]]) -> None:
        config_map["data"]["config.conf"] = config_map["data"]["config.conf"].replace(
            "mode: iptables", "mode: ipvs"
        )

    cluster.store.update(resources.CONFIGMAPS, "kube-system", "kube-proxy", ipvs)
    text = scrape(cluster)
    assert named(text, "kubeproxy_sync_proxy_rules_iptables_total") == []
    assert named(text, LAST_SYNC)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30s", 30.0), ("1m0s", 60.0), ("1s", 1.0), ("500ms", 0.5), ("1h", 3600.0)],
)
def test_sync_periods_are_read_as_go_durations(text: str, seconds: float) -> None:
    assert go_duration(text, default=-1) == seconds


@pytest.mark.parametrize("text", [None, "", "30", "soon", "0s", 30])
def test_a_missing_or_bad_sync_period_falls_back_to_the_default(text: object) -> None:
    assert go_duration(text, default=7.0) == 7.0
