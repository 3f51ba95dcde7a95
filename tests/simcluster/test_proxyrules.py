"""kube-proxy's rules: ready endpoints per Service port, written as iptables-save and ipvsadm do."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest

from simcluster.proxyrules import (
    ServicePort,
    endpoint_chain,
    iptables_save,
    ipvsadm_list,
    service_chain,
    service_ports,
)

Obj = dict[str, Any]
NOW = datetime(2024, 11, 25, 18, 0, 0, tzinfo=UTC)
WEB = ServicePort("shop", "web", "http", "TCP", "10.96.12.34", 80, None, ())


def _service(name: str, *, ip: str | None = "10.96.12.34", ports: list[Obj] | None = None) -> Obj:
    spec: Obj = {"ports": ports or [{"name": "http", "port": 80, "protocol": "TCP"}]}
    if ip is not None:
        spec["clusterIP"] = ip
    return {"metadata": {"name": name, "namespace": "shop"}, "spec": spec}


def _slice(service: str, endpoints: list[Obj], *, port: Obj | None = None) -> Obj:
    return {
        "metadata": {"namespace": "shop", "labels": {"kubernetes.io/service-name": service}},
        "endpoints": endpoints,
        "ports": [port or {"name": "http", "port": 8080, "protocol": "TCP"}],
    }


def _ready(ip: str) -> Obj:
    return {"addresses": [ip], "conditions": {"ready": True}}


@pytest.mark.parametrize(
    ("services", "slices", "endpoints"),
    [
        ([_service("web")], [], [()]),
        ([_service("web")], [_slice("web", [_ready("10.128.1.5")])], [(("10.128.1.5", 8080),)]),
        (
            [_service("web")],
            [_slice("web", [_ready("10.128.2.5"), _ready("10.128.1.5")])],
            [(("10.128.1.5", 8080), ("10.128.2.5", 8080))],
        ),
        (
            [_service("web")],
            [_slice("web", [_ready("10.128.2.5")]), _slice("web", [_ready("10.128.1.5")])],
            [(("10.128.1.5", 8080), ("10.128.2.5", 8080))],
        ),
        (
            [_service("web")],
            [_slice("web", [{"addresses": ["10.128.1.5"], "conditions": {"ready": False}}])],
            [()],
        ),
        (
            [_service("web")],
            [_slice("web", [{"addresses": ["10.128.1.5"]}])],  # no conditions: ready
            [(("10.128.1.5", 8080),)],
        ),
        (
            [_service("web")],
            [_slice("web", [_ready("10.128.1.5")], port={"name": "metrics", "port": 9090})],
            [()],
        ),
        (
            [_service("web")],
            [
                _slice(
                    "web",
                    [_ready("10.128.1.5")],
                    port={"name": "http", "port": 53, "protocol": "UDP"},
                )
            ],
            [()],
        ),
        ([_service("web")], [_slice("other", [_ready("10.128.1.5")])], [()]),
        ([_service("web", ip="None"), _service("db", ip=None)], [], []),
    ],
    ids=[
        "no slices",
        "one endpoint",
        "endpoints sorted",
        "slices combined",
        "not ready left out",
        "ready by default",
        "port name must match",
        "protocol must match",
        "another service's slice",
        "headless and unallocated skipped",
    ],
)
def test_service_ports_pair_each_vip_port_with_its_ready_endpoints(
    services: list[Obj], slices: list[Obj], endpoints: list[tuple[tuple[str, int], ...]]
) -> None:
    assert [p.endpoints for p in service_ports(services, slices)] == endpoints


def test_a_service_port_keeps_its_name_protocol_and_node_port() -> None:
    ports = [
        {"name": "http", "port": 80, "nodePort": 30080},
        {"name": "dns", "port": 53, "protocol": "UDP"},
    ]
    found = service_ports([_service("web", ports=ports)], [])
    assert [(p.port_name, p.protocol, p.port, p.node_port, p.display) for p in found] == [
        ("http", "TCP", 80, 30080, "shop/web:http"),
        ("dns", "UDP", 53, None, "shop/web:dns"),
    ]


@pytest.mark.parametrize(
    ("port", "display"),
    [
        (WEB, "shop/web:http"),
        (ServicePort("shop", "web", "", "TCP", "10.96.1.1", 80, None, ()), "shop/web"),
    ],
)
def test_a_port_is_named_as_kube_proxy_names_it(port: ServicePort, display: str) -> None:
    assert port.display == display


def test_chain_names_are_stable_hashes_of_port_protocol_and_endpoint() -> None:
    udp = ServicePort("shop", "web", "http", "UDP", "10.96.12.34", 80, None, ())
    assert re.fullmatch(r"KUBE-SVC-[A-Z2-7]{16}", service_chain(WEB))
    assert service_chain(WEB) == service_chain(WEB)
    assert service_chain(WEB) != service_chain(udp)
    assert re.fullmatch(r"KUBE-SEP-[A-Z2-7]{16}", endpoint_chain(WEB, "10.128.1.5", 8080))
    assert endpoint_chain(WEB, "10.128.1.5", 8080) != endpoint_chain(WEB, "10.128.1.6", 8080)


def test_iptables_save_rejects_traffic_to_a_port_without_endpoints() -> None:
    rules = iptables_save([WEB], now=NOW)
    assert (
        '-A KUBE-SERVICES -d 10.96.12.34/32 -p tcp -m comment --comment "shop/web:http has no '
        'endpoints" -m tcp --dport 80 -j REJECT --reject-with icmp-port-unreachable'
    ) in rules
    assert "KUBE-SVC-" not in rules


def test_iptables_save_balances_endpoints_with_decreasing_probabilities() -> None:
    endpoints = (("10.128.1.5", 8080), ("10.128.2.5", 8080), ("10.128.3.5", 8080))
    port = ServicePort("shop", "web", "http", "TCP", "10.96.12.34", 80, None, endpoints)
    rules = iptables_save([port], now=NOW)
    jumps = [
        line
        for line in rules.splitlines()
        if line.startswith(f"-A {service_chain(port)} -m comment")
    ]
    probabilities = [
        match.group(1) if (match := re.search(r"--probability (\S+)", line)) else None
        for line in jumps
    ]
    assert probabilities == ["0.33333333333", "0.50000000000", None]
    for ip, number in endpoints:
        assert f"-j DNAT --to-destination {ip}:{number}" in rules
    assert f"-A {service_chain(port)} ! -s 10.128.0.0/9 -d 10.96.12.34/32" in rules


def test_iptables_save_dumps_filter_then_nat_stamped_with_the_time() -> None:
    lines = iptables_save([], now=NOW).splitlines()
    assert lines[0] == "# Generated by iptables-save v1.8.9 (nf_tables) on Mon Nov 25 18:00:00 2024"
    assert [line for line in lines if line.startswith("*")] == ["*filter", "*nat"]
    assert lines.count("COMMIT") == 2
    services = [line for line in lines if line.startswith("-A KUBE-SERVICES")]
    assert "KUBE-NODEPORTS" in services[-1]


def test_ipvsadm_shows_an_empty_table_in_iptables_mode() -> None:
    out = ipvsadm_list([_two_endpoints()], ipvs=False).splitlines()
    assert out == [
        "IP Virtual Server version 1.2.1 (size=4096)",
        "Prot LocalAddress:Port Scheduler Flags",
        "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn",
    ]


def test_ipvsadm_lists_each_virtual_server_and_its_real_servers_in_ipvs_mode() -> None:
    out = ipvsadm_list([_two_endpoints()], ipvs=True).splitlines()
    assert out[3:] == [
        "TCP  10.96.12.34:80 rr",
        "  -> 10.128.1.5:8080                   Masq    1      0          0",
        "  -> 10.128.2.5:8080                   Masq    1      0          0",
    ]


def _two_endpoints() -> ServicePort:
    endpoints = (("10.128.1.5", 8080), ("10.128.2.5", 8080))
    return ServicePort("shop", "web", "http", "TCP", "10.96.12.34", 80, None, endpoints)
