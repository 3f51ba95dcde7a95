"""Unit tests of `flows.conntrack.plan`: which entries are stale, on which nodes, deleted how."""

from __future__ import annotations

import pytest

from flows.conntrack.entries import Entry, Match
from flows.conntrack.plan import (
    CleanupPlan,
    Flush,
    NoCleanup,
    NodeTable,
    Observation,
    ServiceBackends,
    Target,
    plan_cleanup,
)
from runbooks.approval import ActionKind

DELETE_STALE = ActionKind.DELETE_STALE_CONNTRACK
FLUSH = ActionKind.FLUSH_CONNTRACK

DNS = ServiceBackends(
    "kube-system", "kube-dns", "10.96.0.10", frozenset({"10.244.1.5", "10.244.2.5"})
)
WEB = ServiceBackends("shop", "web", "10.96.1.20", frozenset({"10.244.1.7"}))
GONE_DNS = "10.244.1.9"
GONE_WEB = "10.244.2.8"
KUBE_DNS = ("kube-system", "kube-dns")
SHOP_WEB = ("shop", "web")


def entry(dst: str, reply_src: str, *, port: int = 53, proto: str = "udp") -> Entry:
    """An entry from a client on the node to ``dst``, answered by ``reply_src``."""
    return Entry(proto, "10.0.1.201", dst, port, reply_src)


def table(node: str, *entries: Entry, problem: str | None = None) -> NodeTable:
    """``node``'s table, read through kube-proxy pod ``kube-proxy-<node>``."""
    return NodeTable(node, f"kube-proxy-{node}", entries=entries, problem=problem)


def observation(
    *nodes: NodeTable,
    services: tuple[ServiceBackends, ...] = (DNS, WEB),
    live_pods: dict[str, str] | None = None,
) -> Observation:
    return Observation(nodes=nodes, services=services, live_pods=live_pods or {})


def as_plan(result: CleanupPlan | NoCleanup) -> CleanupPlan:
    assert isinstance(result, CleanupPlan), result
    return result


def as_no_cleanup(result: CleanupPlan | NoCleanup) -> str:
    assert isinstance(result, NoCleanup), result
    return result.reason


STALE_CLUSTER = observation(
    table(
        "node-a",
        *[entry(DNS.cluster_ip, GONE_DNS)] * 3,
        entry(DNS.cluster_ip, "10.244.1.5"),
        *[entry(WEB.cluster_ip, GONE_WEB, port=80, proto="tcp")] * 2,
        entry(WEB.cluster_ip, "10.244.1.7", port=80, proto="tcp"),
    ),
    table("node-b", entry(DNS.cluster_ip, GONE_DNS), entry(DNS.cluster_ip, "10.244.2.5")),
    table("node-c", entry(DNS.cluster_ip, "10.244.2.5")),
)


def test_stale_entries_become_one_deletion_per_node_service_and_reply_ip() -> None:
    plan = as_plan(plan_cleanup(Target(), STALE_CLUSTER))

    assert [(d.node, d.pod, d.service, d.match, d.entries) for d in plan.deletions] == [
        ("node-a", "kube-proxy-node-a", KUBE_DNS, Match(GONE_DNS, DNS.cluster_ip), 3),
        ("node-a", "kube-proxy-node-a", SHOP_WEB, Match(GONE_WEB, WEB.cluster_ip), 2),
        ("node-b", "kube-proxy-node-b", KUBE_DNS, Match(GONE_DNS, DNS.cluster_ip), 1),
    ]
    assert plan.deletions[0].reason == (
        "3 entries to kube-system/kube-dns (10.96.0.10) answered by 10.244.1.9, "
        "no longer an endpoint"
    )
    assert (plan.unreachable, plan.flushes, plan.action) == ((), (), DELETE_STALE)
    assert (plan.nodes, plan.entries) == (("node-a", "node-b"), 6)


@pytest.mark.parametrize(
    "entries",
    [
        pytest.param(
            [entry(DNS.cluster_ip, ip) for ip in DNS.endpoint_ips]
            + [entry(WEB.cluster_ip, ip, port=80) for ip in WEB.endpoint_ips],
            id="answered by current endpoints",
        ),
        pytest.param(
            [entry("10.96.7.7", GONE_DNS), entry("8.8.8.8", GONE_WEB)],
            id="not to a Service ClusterIP",
        ),
    ],
)
def test_entries_that_are_not_stale_are_never_planned(entries: list[Entry]) -> None:
    reason = as_no_cleanup(plan_cleanup(Target(), observation(table("node-a", *entries))))

    assert reason == "no stale entries for any Service on 1 node(s)"


@pytest.mark.parametrize(
    ("namespace", "service", "planned"),
    [
        pytest.param("kube-system", "kube-dns", {KUBE_DNS}, id="dns"),
        pytest.param("shop", "web", {SHOP_WEB}, id="web"),
        pytest.param("shop", "kube-dns", set(), id="namespace must match too"),
    ],
)
def test_a_target_service_restricts_the_plan_to_that_service(
    namespace: str, service: str, planned: set[tuple[str, str]]
) -> None:
    result = plan_cleanup(Target(namespace, service), STALE_CLUSTER)

    deletions = result.deletions if isinstance(result, CleanupPlan) else ()
    assert {d.service for d in deletions} == planned


def test_a_gone_pod_ip_is_deleted_on_every_node_that_has_it_whatever_the_destination() -> None:
    cluster = observation(
        table("node-a", entry(DNS.cluster_ip, GONE_DNS), entry("10.96.7.7", GONE_DNS)),
        table("node-b", entry(DNS.cluster_ip, "10.244.2.5")),
        table("node-c", entry(WEB.cluster_ip, GONE_DNS, port=80)),
    )

    plan = as_plan(plan_cleanup(Target(pod_ip=GONE_DNS), cluster))

    assert [(d.node, d.pod, d.match, d.entries, d.service) for d in plan.deletions] == [
        ("node-a", "kube-proxy-node-a", Match(GONE_DNS), 2, None),
        ("node-c", "kube-proxy-node-c", Match(GONE_DNS), 1, None),
    ]
    assert plan.deletions[0].reason == "2 entries answered by 10.244.1.9, which no live pod has"
    assert all(d.match.orig_dst is None for d in plan.deletions)


@pytest.mark.parametrize(
    ("pod_ip", "live_pods", "why"),
    [
        pytest.param(
            GONE_DNS,
            {GONE_DNS: "kube-system/coredns-new"},
            "10.244.1.9 belongs to live pod kube-system/coredns-new",
            id="reused by a live pod",
        ),
        ("10.244.1.7", {}, "10.244.1.7 is an endpoint of Service shop/web"),
    ],
)
def test_a_pod_ip_still_in_use_is_never_cleaned(
    pod_ip: str, live_pods: dict[str, str], why: str
) -> None:
    cluster = observation(
        table("node-a", entry(DNS.cluster_ip, GONE_DNS), entry(WEB.cluster_ip, "10.244.1.7")),
        live_pods=live_pods,
    )

    reason = as_no_cleanup(plan_cleanup(Target(pod_ip=pod_ip), cluster))

    assert reason == f"{why}: its entries are current, not stale"


@pytest.mark.parametrize(
    ("target", "what"),
    [
        (Target(), "any Service"),
        (Target("shop", "web"), "Service shop/web"),
        (Target(pod_ip="10.244.3.3"), "Pod IP 10.244.3.3"),
    ],
)
def test_nothing_stale_says_what_was_looked_at_on_how_many_nodes_and_how_many_not_seen(
    target: Target, what: str
) -> None:
    current = entry(DNS.cluster_ip, "10.244.1.5")
    cluster = observation(
        table("node-a", current),
        table("node-b", current),
        table("node-c", entry(DNS.cluster_ip, GONE_DNS), problem="kube-proxy pod not Ready"),
    )

    reason = as_no_cleanup(plan_cleanup(target, cluster))

    assert reason == f"no stale entries for {what} on 2 node(s); not seen: 1"


UNREACHABLE = observation(
    table("node-a", entry(DNS.cluster_ip, GONE_DNS)),
    table("node-b", entry(DNS.cluster_ip, GONE_DNS), problem="`conntrack -L` exited 2: boom"),
    NodeTable("node-c", None, entries=(entry(DNS.cluster_ip, GONE_DNS),)),
)


def test_nodes_with_a_problem_or_without_a_pod_are_unreachable_and_not_planned() -> None:
    plan = as_plan(plan_cleanup(Target(), UNREACHABLE))

    assert plan.nodes == ("node-a",)
    assert plan.unreachable[0] == "node-b: `conntrack -L` exited 2: boom"
    assert [line.split(":")[0] for line in plan.unreachable] == ["node-b", "node-c"]


def test_a_node_without_a_kube_proxy_pod_is_listed_with_a_reason() -> None:
    plan = as_plan(plan_cleanup(Target(), UNREACHABLE))

    assert plan.unreachable[1].endswith(": no kube-proxy pod")


def test_full_flush_plans_one_flush_per_reachable_node_with_its_count() -> None:
    counts = {"node-a": 120, "node-c": None, "node-d": 30}
    cluster = observation(
        *(NodeTable(node, f"kube-proxy-{node}", count=count) for node, count in counts.items()),
        NodeTable("node-b", "kube-proxy-node-b", problem="kube-proxy pod not Ready"),
    )

    plan = as_plan(plan_cleanup(Target(full_flush=True), cluster))

    assert plan.flushes == tuple(Flush(n, f"kube-proxy-{n}", c) for n, c in counts.items())
    assert (plan.deletions, plan.unreachable) == ((), ("node-b: kube-proxy pod not Ready",))
    assert (plan.action, plan.nodes, plan.entries) == (FLUSH, tuple(counts), 150)


def test_full_flush_without_a_reachable_node_plans_nothing() -> None:
    cluster = observation(NodeTable("node-a", "kube-proxy-node-a", problem="not Ready"))

    reason = as_no_cleanup(plan_cleanup(Target(full_flush=True), cluster))

    assert reason == "no node has a kube-proxy pod to flush through"


def test_deletions_are_ordered_by_node_then_service_then_ip() -> None:
    entries = (
        entry(WEB.cluster_ip, "10.244.2.9", port=80),
        entry(DNS.cluster_ip, "10.244.3.3"),
        entry(WEB.cluster_ip, "10.244.2.8", port=80),
        entry(DNS.cluster_ip, "10.244.1.9"),
    )
    cluster = observation(
        table("node-a", *entries), table("node-b", *reversed(entries)), services=(WEB, DNS)
    )

    plan = as_plan(plan_cleanup(Target(), cluster))

    assert [(d.node, d.service, d.match.reply_src) for d in plan.deletions] == [
        (node, service, ip)
        for node in ("node-a", "node-b")
        for service, ip in [
            (KUBE_DNS, "10.244.1.9"),
            (KUBE_DNS, "10.244.3.3"),
            (SHOP_WEB, "10.244.2.8"),
            (SHOP_WEB, "10.244.2.9"),
        ]
    ]
