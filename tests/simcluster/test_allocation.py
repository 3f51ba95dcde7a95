"""Addresses are handed out once: Service ClusterIPs and NodePorts, and pod IPs per node."""

from __future__ import annotations

import ipaddress
import random
import re
from typing import Any

import pytest

from simcluster.allocation import (
    NODE_PORT_RANGE,
    SERVICE_CIDR,
    AllocationError,
    PodAddresses,
    ServiceAllocations,
    service_holdings,
)

Obj = dict[str, Any]


@pytest.fixture
def allocations() -> ServiceAllocations:
    return ServiceAllocations(random.Random(7))


def _int(ip: str) -> int:
    return int(ipaddress.IPv4Address(ip))


@pytest.mark.parametrize(
    ("service", "ips", "ports"),
    [
        (None, set(), set()),
        ({"spec": {}}, set(), set()),
        ({"spec": {"clusterIP": "10.96.0.10"}}, {"10.96.0.10"}, set()),
        (
            {"spec": {"clusterIPs": ["10.96.0.10"], "clusterIP": "10.96.0.99"}},
            {"10.96.0.10"},
            set(),
        ),
        ({"spec": {"clusterIP": "None"}}, set(), set()),
        ({"spec": {"clusterIP": "192.168.0.1"}}, set(), set()),
        (
            {"spec": {"clusterIP": "10.96.0.10", "ports": [{"nodePort": 30080}, {"port": 53}]}},
            {"10.96.0.10"},
            {30080},
        ),
    ],
)
def test_a_service_holds_its_cluster_ips_in_range_and_its_node_ports(
    service: Obj | None, ips: set[str], ports: set[int]
) -> None:
    assert service_holdings(service) == ({_int(ip) for ip in ips}, ports)


@pytest.mark.parametrize(
    ("ip", "message"),
    [
        ("not-an-ip", "failed to allocate IP not-an-ip"),
        ("10.95.255.255", "the provided IP (10.95.255.255) is not in the valid range"),
        ("10.96.0.10", "provided IP is already allocated"),
    ],
)
def test_claiming_an_ip_fails_in_the_apiservers_words(
    allocations: ServiceAllocations, ip: str, message: str
) -> None:
    allocations.claim_ip("kube-system/kube-dns", "10.96.0.10")
    with pytest.raises(AllocationError, match=re.escape(message)):
        allocations.claim_ip("shop/web", ip)


def test_a_service_may_claim_its_own_ip_again(allocations: ServiceAllocations) -> None:
    allocations.claim_ip("shop/web", "10.96.0.20")
    allocations.claim_ip("shop/web", "10.96.0.20")


def test_allocated_ips_are_free_in_range_and_never_the_first_two(
    allocations: ServiceAllocations,
) -> None:
    allocations.claim_ip("kube-system/kube-dns", "10.96.0.10")
    ips = [allocations.allocate_ip(f"shop/svc-{i}") for i in range(200)]
    assert len(set(ips)) == len(ips)
    addresses = [ipaddress.IPv4Address(ip) for ip in ips]
    assert all(a in SERVICE_CIDR for a in addresses)
    assert not {"10.96.0.0", "10.96.0.1", "10.96.0.10"} & set(ips)


@pytest.mark.parametrize(
    ("port", "message"),
    [
        (29999, "provided port is not in the valid range. The range of valid ports is 30000-32767"),
        (32768, "provided port is not in the valid range"),
        (30080, "provided port is already allocated"),
    ],
)
def test_claiming_a_node_port_fails_in_the_apiservers_words(
    allocations: ServiceAllocations, port: int, message: str
) -> None:
    allocations.claim_port("shop/web", 30080)
    with pytest.raises(AllocationError, match=re.escape(message)):
        allocations.claim_port("shop/checkout", port)


def test_node_ports_run_out_when_the_range_is_taken(allocations: ServiceAllocations) -> None:
    low, high = NODE_PORT_RANGE
    for port in range(low, high):
        allocations.claim_port("shop/greedy", port)
    assert allocations.allocate_port("shop/web") == high
    with pytest.raises(AllocationError, match="range is full"):
        allocations.allocate_port("shop/checkout")


def test_sync_releases_what_a_service_no_longer_holds(allocations: ServiceAllocations) -> None:
    allocations.claim_ip("shop/web", "10.96.0.20")
    allocations.claim_port("shop/web", 30080)
    allocations.claim_port("shop/web", 30081)
    allocations.sync(
        "shop/web", {"spec": {"clusterIP": "10.96.0.20", "ports": [{"nodePort": 30081}]}}
    )
    allocations.claim_port("shop/checkout", 30080)
    with pytest.raises(AllocationError):
        allocations.claim_port("shop/checkout", 30081)


def test_sync_of_a_deleted_service_releases_everything(allocations: ServiceAllocations) -> None:
    allocations.claim_ip("shop/web", "10.96.0.20")
    allocations.claim_port("shop/web", 30080)
    allocations.sync("shop/web", None)
    allocations.claim_ip("shop/checkout", "10.96.0.20")
    allocations.claim_port("shop/checkout", 30080)


def test_pod_ips_are_handed_out_in_order_from_the_second_address() -> None:
    addresses = PodAddresses(lambda node: [])
    assert [addresses.allocate("node-1", "10.128.1.0/24") for _ in range(3)] == [
        "10.128.1.2",
        "10.128.1.3",
        "10.128.1.4",
    ]
    assert addresses.allocate("node-2", "10.128.2.0/24") == "10.128.2.2"


def test_pod_ips_already_in_use_on_the_node_are_skipped() -> None:
    addresses = PodAddresses(lambda node: ["10.128.1.2", "10.128.1.4"] if node == "node-1" else [])
    assert [addresses.allocate("node-1", "10.128.1.0/24") for _ in range(2)] == [
        "10.128.1.3",
        "10.128.1.5",
    ]


@pytest.mark.parametrize(
    ("cidr", "per_node", "handed_out"),
    [("10.128.1.0/24", 3, 3), ("10.128.1.0/29", 250, 5), ("10.128.1.0/24", 250, 250)],
)
def test_a_node_runs_out_of_pod_ips_at_its_limit(cidr: str, per_node: int, handed_out: int) -> None:
    addresses = PodAddresses(lambda node: [], per_node=per_node)
    ips = [addresses.allocate("node-1", cidr) for _ in range(handed_out)]
    assert None not in ips
    assert len(set(ips)) == handed_out
    assert addresses.allocate("node-1", cidr) is None


def test_a_released_pod_ip_is_reused_only_after_the_others() -> None:
    addresses = PodAddresses(lambda node: [], per_node=4)
    first = addresses.allocate("node-1", "10.128.1.0/24")
    addresses.allocate("node-1", "10.128.1.0/24")
    addresses.release("node-1", str(first))
    later = [addresses.allocate("node-1", "10.128.1.0/24") for _ in range(3)]
    assert later == ["10.128.1.4", "10.128.1.5", first]


def test_releasing_on_a_node_never_seen_changes_nothing() -> None:
    addresses = PodAddresses(lambda node: [])
    addresses.release("node-9", "10.128.9.2")
    assert addresses.allocate("node-9", "10.128.9.0/24") == "10.128.9.2"
