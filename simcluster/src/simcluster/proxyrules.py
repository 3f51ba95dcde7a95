"""The node rules kube-proxy programs (iptables-save, ipvsadm -Ln) from Services and slices."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

Obj = dict[str, Any]
CLUSTER_CIDR = "10.128.0.0/9"


@dataclass(frozen=True)
class ServicePort:
    """One Service port with the endpoints kube-proxy would program for it."""

    namespace: str
    service: str
    port_name: str
    protocol: str
    cluster_ip: str
    port: int
    node_port: int | None
    endpoints: tuple[tuple[str, int], ...]

    @property
    def display(self) -> str:
        """``namespace/name:port`` as kube-proxy names a service port."""
        suffix = f":{self.port_name}" if self.port_name else ""
        return f"{self.namespace}/{self.service}{suffix}"


def _hash(text: str) -> str:
    return base64.b32encode(hashlib.sha256(text.encode()).digest()).decode()[:16]


def service_chain(port: ServicePort) -> str:
    """``KUBE-SVC-<hash>``, hashed as kube-proxy does from the port name and protocol."""
    return "KUBE-SVC-" + _hash(port.display + port.protocol.lower())


def endpoint_chain(port: ServicePort, ip: str, number: int) -> str:
    """``KUBE-SEP-<hash>`` for one endpoint of a service port."""
    return "KUBE-SEP-" + _hash(port.display + port.protocol.lower() + f"{ip}:{number}")


def service_ports(services: list[Obj], slices: list[Obj]) -> list[ServicePort]:
    """Pair each ClusterIP Service port with the ready endpoints its slices list."""
    by_service: dict[tuple[str, str], list[Obj]] = {}
    for slice_ in slices:
        labels = slice_["metadata"].get("labels") or {}
        owner = (
            slice_["metadata"].get("namespace", ""),
            labels.get("kubernetes.io/service-name", ""),
        )
        by_service.setdefault(owner, []).append(slice_)
    result = []
    for service in services:
        spec, meta = service.get("spec") or {}, service["metadata"]
        ip = spec.get("clusterIP")
        if not ip or ip == "None":
            continue
        for port in spec.get("ports") or []:
            name, protocol = port.get("name", ""), port.get("protocol", "TCP")
            endpoints = []
            for slice_ in by_service.get((meta["namespace"], meta["name"]), []):
                number = next(
                    (
                        p["port"]
                        for p in slice_.get("ports") or []
                        if p.get("name", "") == name and p.get("protocol", "TCP") == protocol
                    ),
                    None,
                )
                if number is None:
                    continue
                for endpoint in slice_.get("endpoints") or []:
                    if (endpoint.get("conditions") or {}).get("ready", True):
                        endpoints.append((endpoint["addresses"][0], int(number)))
            result.append(
                ServicePort(
                    meta["namespace"],
                    meta["name"],
                    name,
                    protocol,
                    ip,
                    int(port["port"]),
                    port.get("nodePort"),
                    tuple(sorted(endpoints)),
                )
            )
    return result


def iptables_save(ports: list[ServicePort], *, now: datetime) -> str:
    """The ``iptables-save`` output of a node whose kube-proxy synced ``ports`` (None: never)."""
    stamp = now.strftime("%a %b %d %H:%M:%S %Y")
    chains = [
        ":KUBE-MARK-MASQ - [0:0]",
        ":KUBE-NODEPORTS - [0:0]",
        ":KUBE-POSTROUTING - [0:0]",
        ":KUBE-SERVICES - [0:0]",
    ]
    rules = [
        '-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
        '-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
        '-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING',
        "-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000",
        "-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN",
        "-A KUBE-POSTROUTING -j MARK --set-xmark 0x4000/0x0",
        '-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" '
        "-j MASQUERADE --random-fully",
    ]
    rejects = []
    for port in ports:
        proto = port.protocol.lower()
        comment = f'-m comment --comment "{port.display} cluster IP"'
        match = f"-p {proto} {comment} -m {proto} --dport {port.port}"
        if not port.endpoints:
            rejects.append(
                f"-A KUBE-SERVICES -d {port.cluster_ip}/32 -p {proto} "
                f'-m comment --comment "{port.display} has no endpoints" '
                f"-m {proto} --dport {port.port} -j REJECT --reject-with icmp-port-unreachable"
            )
            continue
        svc = service_chain(port)
        chains.append(f":{svc} - [0:0]")
        rules.append(f"-A KUBE-SERVICES -d {port.cluster_ip}/32 {match} -j {svc}")
        rules.append(
            f"-A {svc} ! -s {CLUSTER_CIDR} -d {port.cluster_ip}/32 {match} -j KUBE-MARK-MASQ"
        )
        for index, (ip, number) in enumerate(port.endpoints):
            sep = endpoint_chain(port, ip, number)
            chains.append(f":{sep} - [0:0]")
            remaining = len(port.endpoints) - index
            balance = (
                f" -m statistic --mode random --probability {1 / remaining:.11f}"
                if remaining > 1
                else ""
            )
            rules.append(
                f'-A {svc} -m comment --comment "{port.display} -> {ip}:{number}"{balance} -j {sep}'
            )
            rules.append(
                f'-A {sep} -s {ip}/32 -m comment --comment "{port.display}" -j KUBE-MARK-MASQ'
            )
            rules.append(
                f'-A {sep} -p {proto} -m comment --comment "{port.display}" -m {proto} '
                f"-j DNAT --to-destination {ip}:{number}"
            )
    rules.append(
        '-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; '
        'NOTE: this must be the last rule in this chain" '
        "-m addrtype --dst-type LOCAL -j KUBE-NODEPORTS"
    )
    head = f"# Generated by iptables-save v1.8.9 (nf_tables) on {stamp}"
    nat = [
        head,
        "*nat",
        ":PREROUTING ACCEPT [0:0]",
        ":INPUT ACCEPT [0:0]",
        ":OUTPUT ACCEPT [0:0]",
        ":POSTROUTING ACCEPT [0:0]",
        *chains,
        *rules,
        "COMMIT",
        f"# Completed on {stamp}",
    ]
    filter_ = [
        head,
        "*filter",
        ":INPUT ACCEPT [0:0]",
        ":FORWARD ACCEPT [0:0]",
        ":OUTPUT ACCEPT [0:0]",
        ":KUBE-SERVICES - [0:0]",
        *rejects,
        "COMMIT",
        f"# Completed on {stamp}",
    ]
    return "\n".join(filter_ + nat) + "\n"


def ipvsadm_list(ports: list[ServicePort], *, ipvs: bool, scheduler: str = "rr") -> str:
    """``ipvsadm -Ln``: virtual servers in IPVS mode, an empty table otherwise."""
    lines = [
        "IP Virtual Server version 1.2.1 (size=4096)",
        "Prot LocalAddress:Port Scheduler Flags",
        "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn",
    ]
    if ipvs:
        for port in ports:
            lines.append(f"{port.protocol:<4} {port.cluster_ip}:{port.port} {scheduler}")
            lines.extend(
                f"  -> {ip}:{number:<22} Masq    1      0          0"
                for ip, number in port.endpoints
            )
    return "\n".join(lines) + "\n"
