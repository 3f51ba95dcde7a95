"""Conntrack tables hold each node's flows to Service VIPs, and stale ones to deleted pods."""

from __future__ import annotations

from typing import Any

import pytest

from simcluster import resources
from simcluster.conntrack import ConntrackTables, Flow
from simcluster.selectors import LabelSelector, selector_from_match_labels
from simcluster.store import Store

Obj = dict[str, Any]
WEB_VIP, DNS_VIP, HEADLESS = "10.96.12.34", "10.96.0.10", "None"
# The Services whose selectors the endpoints controller knows, by namespace.
SELECTORS: dict[str, list[tuple[str, LabelSelector]]] = {
    "shop": [
        ("web", selector_from_match_labels({"app": "web"})),
        ("named", selector_from_match_labels({"app": "named"})),
        ("headless", selector_from_match_labels({"app": "db"})),
        ("gone", selector_from_match_labels({"app": "gone"})),
    ],
    "kube-system": [("kube-dns", selector_from_match_labels({"k8s-app": "kube-dns"}))],
}


def _service(namespace: str, name: str, vip: str, ports: list[Obj]) -> Obj:
    return {
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"clusterIP": vip, "ports": ports},
    }


def _slice(namespace: str, service: str, addresses: list[str], ports: list[Obj]) -> Obj:
    return {
        "metadata": {
            "name": f"{service}-abcde",
            "namespace": namespace,
            "labels": {"kubernetes.io/service-name": service},
        },
        "endpoints": [{"addresses": [a]} for a in addresses],
        "ports": ports,
    }


@pytest.fixture
def store() -> Store:
    store = Store()
    for namespace in ("shop", "kube-system"):
        store.create(resources.NAMESPACES, {"metadata": {"name": namespace}})
    store.create(
        resources.NODES, {"metadata": {"name": "node-1"}, "spec": {"podCIDR": "10.128.1.0/24"}}
    )
    tcp_80 = [{"port": 80, "targetPort": 8080, "protocol": "TCP"}]
    dns_ports = [
        {"name": "dns", "port": 53, "protocol": "UDP"},
        {"name": "dns-tcp", "port": 53, "protocol": "TCP"},
    ]
    for service in (
        _service("shop", "web", WEB_VIP, tcp_80),
        _service("shop", "named", "10.96.7.7", [{"port": 80, "targetPort": "http"}]),
        _service("shop", "headless", HEADLESS, tcp_80),
        _service("kube-system", "kube-dns", DNS_VIP, dns_ports),
    ):
        store.create(resources.SERVICES, service)
    store.create(
        resources.ENDPOINTSLICES,
        _slice(
            "shop",
            "web",
            ["10.128.1.5", "10.128.2.5", "10.128.3.5"],
            [{"port": 8080, "protocol": "TCP"}],
        ),
    )
    store.create(
        resources.ENDPOINTSLICES,
        _slice(
            "kube-system",
            "kube-dns",
            ["10.128.1.2"],
            [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}],
        ),
    )
    return store


@pytest.fixture
def tables(store: Store) -> ConntrackTables:
    return ConntrackTables(store, service_selectors=lambda ns: SELECTORS.get(ns, []))


def _pod(
    labels: dict[str, str], *, ip: str | None = "10.128.1.9", host_network: bool = False
) -> Obj:
    return {
        "metadata": {"name": "gone-1", "namespace": "shop", "labels": labels},
        "spec": {"hostNetwork": host_network},
        "status": {"podIP": ip} if ip else {},
    }


@pytest.mark.parametrize(
    ("flow", "line"),
    [
        (
            Flow("tcp", "10.0.1.202", WEB_VIP, 40074, 80, "10.128.1.7", 8080, 86397),
            "tcp      6 86397 ESTABLISHED src=10.0.1.202 dst=10.96.12.34 sport=40074 dport=80 "
            "src=10.128.1.7 dst=10.0.1.202 sport=8080 dport=40074 [ASSURED] mark=0 use=1",
        ),
        (
            Flow("udp", "10.0.1.201", DNS_VIP, 40037, 53, "10.128.1.2", 53, 117),
            "udp      17 117 src=10.0.1.201 dst=10.96.0.10 sport=40037 dport=53 "
            "src=10.128.1.2 dst=10.0.1.201 sport=53 dport=40037 mark=0 use=1",
        ),
        (
            Flow("sctp", "10.0.1.1", "10.96.0.1", 1, 2, "10.128.1.1", 3, 5),
            "sctp     132 5 src=10.0.1.1 dst=10.96.0.1 sport=1 dport=2 "
            "src=10.128.1.1 dst=10.0.1.1 sport=3 dport=1 mark=0 use=1",
        ),
    ],
)
def test_a_flow_renders_as_conntrack_lists_it(flow: Flow, line: str) -> None:
    assert flow.render() == line


def test_a_new_table_is_seeded_with_flows_to_the_first_two_endpoints_of_each_vip(
    tables: ConntrackTables,
) -> None:
    flows = tables.flows("node-1")
    assert {(f.proto, f.dst, f.dport, f.reply_src, f.reply_dport, f.timeout) for f in flows} == {
        ("tcp", WEB_VIP, 80, "10.128.1.5", 8080, 86397),
        ("tcp", WEB_VIP, 80, "10.128.2.5", 8080, 86397),
        ("udp", DNS_VIP, 53, "10.128.1.2", 53, 117),
        ("tcp", DNS_VIP, 53, "10.128.1.2", 53, 86397),
    }
    assert len({f.sport for f in flows}) == len(flows)


@pytest.mark.parametrize(
    ("node", "client_network"),
    [("node-1", "10.128.1."), ("node-9", "10.0.0.")],  # node-9 has no Node object
)
def test_clients_come_from_the_nodes_pod_network(
    tables: ConntrackTables, node: str, client_network: str
) -> None:
    flows = tables.flows(node)
    assert flows
    assert all(
        f.src.startswith(client_network) and int(f.src.rsplit(".", 1)[1]) >= 200 for f in flows
    )


@pytest.mark.parametrize(
    ("pod", "stale"),
    [
        (_pod({"app": "web"}), {("tcp", WEB_VIP, 80, "10.128.1.9", 8080, 431999)}),
        (_pod({"app": "named"}), {("tcp", "10.96.7.7", 80, "10.128.1.9", 80, 431999)}),
        (_pod({"app": "web"}, ip=None), set()),
        (_pod({"app": "web"}, host_network=True), set()),
        (_pod({"app": "other"}), set()),
        (_pod({"app": "db"}), set()),  # a headless Service has no VIP to track
        (_pod({"app": "gone"}), set()),  # its Service was deleted
    ],
)
def test_a_deleted_pod_leaves_stale_flows_to_the_vips_of_the_services_that_selected_it(
    tables: ConntrackTables, pod: Obj, stale: set[tuple[str, str, int, str, int, int]]
) -> None:
    before = tables.flows("node-1")
    tables.pod_deleted(pod)
    after = tables.flows("node-1")
    assert after[: len(before)] == before
    added = {
        (f.proto, f.dst, f.dport, f.reply_src, f.reply_dport, f.timeout)
        for f in after[len(before) :]
    }
    assert added == stale


def test_stale_udp_flows_expire_sooner_than_tcp_ones(tables: ConntrackTables) -> None:
    tables.flows("node-1")
    dns_pod = _pod({"k8s-app": "kube-dns"}, ip="10.128.1.2")
    dns_pod["metadata"]["namespace"] = "kube-system"
    tables.pod_deleted(dns_pod)
    stale = [f for f in tables.flows("node-1") if f.timeout in (29, 431999)]
    assert sorted((f.proto, f.timeout) for f in stale) == [("tcp", 431999), ("udp", 29)]


def test_every_node_gets_the_stale_flows_once(tables: ConntrackTables) -> None:
    tables.pod_deleted(_pod({"app": "web"}))
    first = tables.flows("node-1")
    assert tables.flows("node-1") == first
    assert [f.reply_src for f in tables.flows("node-2")].count("10.128.1.9") == 1


def test_a_table_is_only_forgetful_past_the_remembered_pods(store: Store) -> None:
    tables = ConntrackTables(
        store, service_selectors=lambda ns: SELECTORS.get(ns, []), remembered=2
    )
    for index in range(3):
        tables.pod_deleted(_pod({"app": "web"}, ip=f"10.128.1.{20 + index}"))
    replies = {f.reply_src for f in tables.flows("node-1")}
    assert {"10.128.1.21", "10.128.1.22"} <= replies
    assert "10.128.1.20" not in replies


def test_replace_sets_the_table_and_reads_are_copies(tables: ConntrackTables) -> None:
    flows = tables.flows("node-1")
    flows.clear()
    assert tables.flows("node-1")
    kept = tables.flows("node-1")[:1]
    tables.replace("node-1", kept)
    assert tables.flows("node-1") == kept
    assert tables.flows("node-2") != kept
