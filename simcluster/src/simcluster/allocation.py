"""Address allocation: Service ClusterIPs and NodePorts, and Pod IPs from each node's podCIDR."""

from __future__ import annotations

import ipaddress
import random
import threading
from collections.abc import Callable, Iterable
from typing import Any

SERVICE_CIDR = ipaddress.IPv4Network("10.96.0.0/12")
NODE_PORT_RANGE = (30000, 32767)


class AllocationError(ValueError):
    """A requested address or port cannot be had; the message is the apiserver's wording."""


def service_holdings(obj: dict[str, Any] | None) -> tuple[set[int], set[int]]:
    """The ClusterIPs (as ints) and NodePorts a stored Service holds."""
    if obj is None:
        return set(), set()
    spec = obj.get("spec") or {}
    ips = {
        int(ipaddress.IPv4Address(ip))
        for ip in spec.get("clusterIPs") or [spec.get("clusterIP")]
        if ip and ip != "None" and ipaddress.IPv4Address(ip) in SERVICE_CIDR
    }
    ports = {int(p["nodePort"]) for p in spec.get("ports") or [] if p.get("nodePort")}
    return ips, ports


class ServiceAllocations:
    """Which ClusterIPs and NodePorts are taken, and by which Service (``namespace/name``).

    Admission reserves values for a Service; `sync` then makes a Service's holdings exactly
    what its stored object shows (releasing what it no longer uses, or all of it on delete).

    Args:
        rng: Source of randomness for picking free values.
    """

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._lock = threading.Lock()
        self._ip_owner: dict[int, str] = {}
        self._port_owner: dict[int, str] = {}
        self._held: dict[str, tuple[set[int], set[int]]] = {}

    def claim_ip(self, owner: str, ip: str) -> None:
        """Reserve a specific ClusterIP.

        Raises:
            AllocationError: not a valid address in the range, or taken by another Service.
        """
        try:
            address = ipaddress.IPv4Address(ip)
        except ValueError as error:
            raise AllocationError(f"failed to allocate IP {ip}: {error}") from error
        if address not in SERVICE_CIDR:
            raise AllocationError(
                f"failed to allocate IP {ip}: the provided IP ({ip}) is not in the valid range. "
                f"The range of valid IPs is {SERVICE_CIDR}"
            )
        with self._lock:
            if self._ip_owner.get(int(address), owner) != owner:
                raise AllocationError(
                    f"failed to allocate IP {ip}: provided IP is already allocated"
                )
            self._take(owner, ips={int(address)})

    def allocate_ip(self, owner: str) -> str:
        """Reserve a free ClusterIP (never the network address or ``.1``, kept for kubernetes)."""
        first, size = int(SERVICE_CIDR.network_address), SERVICE_CIDR.num_addresses
        with self._lock:
            while True:
                candidate = first + self._rng.randrange(2, size - 1)
                if candidate not in self._ip_owner:
                    self._take(owner, ips={candidate})
                    return str(ipaddress.IPv4Address(candidate))

    def claim_port(self, owner: str, port: int) -> None:
        """Reserve a specific NodePort.

        Raises:
            AllocationError: outside 30000-32767, or taken by another Service.
        """
        low, high = NODE_PORT_RANGE
        if not low <= port <= high:
            raise AllocationError(
                f"provided port is not in the valid range. The range of valid ports is {low}-{high}"
            )
        with self._lock:
            if self._port_owner.get(port, owner) != owner:
                raise AllocationError("provided port is already allocated")
            self._take(owner, ports={port})

    def allocate_port(self, owner: str) -> int:
        """Reserve a free NodePort.

        Raises:
            AllocationError: every port in the range is taken.
        """
        low, high = NODE_PORT_RANGE
        with self._lock:
            free = [p for p in range(low, high + 1) if p not in self._port_owner]
            if not free:
                raise AllocationError("range is full")
            port = self._rng.choice(free)
            self._take(owner, ports={port})
            return port

    def sync(self, owner: str, obj: dict[str, Any] | None) -> None:
        """Make ``owner``'s holdings exactly those of its stored object (None: deleted)."""
        ips, ports = service_holdings(obj)
        with self._lock:
            old_ips, old_ports = self._held.pop(owner, (set(), set()))
            for ip in old_ips - ips:
                self._ip_owner.pop(ip, None)
            for port in old_ports - ports:
                self._port_owner.pop(port, None)
            if obj is not None:
                self._take(owner, ips=ips, ports=ports)

    def _take(self, owner: str, *, ips: Iterable[int] = (), ports: Iterable[int] = ()) -> None:
        held_ips, held_ports = self._held.setdefault(owner, (set(), set()))
        for ip in ips:
            self._ip_owner[ip] = owner
            held_ips.add(ip)
        for port in ports:
            self._port_owner[port] = owner
            held_ports.add(port)


class PodAddresses:
    """Pod IPs per node, handed out in order from the node's /24 like host-local IPAM.

    A node's used set is loaded from the store on first use, so bulk-seeded pods count.

    Args:
        load_used: Returns the IPs pods on a node already use.
        per_node: How many addresses (from ``.2``) a node hands out.
    """

    def __init__(self, load_used: Callable[[str], Iterable[str]], *, per_node: int = 250) -> None:
        self._load_used = load_used
        self._per_node = per_node
        self._lock = threading.Lock()
        self._used: dict[str, set[str]] = {}
        self._cursor: dict[str, int] = {}

    def allocate(self, node: str, pod_cidr: str) -> str | None:
        """The next free IP after the last one handed out on ``node`` (None when full)."""
        network = ipaddress.IPv4Network(pod_cidr)
        base = int(network.network_address)
        limit = min(self._per_node, network.num_addresses - 3)
        with self._lock:
            used = self._used_on(node)
            start = self._cursor.get(node, 0)
            for step in range(limit):
                offset = (start + step) % limit
                ip = str(ipaddress.IPv4Address(base + 2 + offset))
                if ip not in used:
                    used.add(ip)
                    self._cursor[node] = offset + 1
                    return ip
        return None

    def release(self, node: str, ip: str) -> None:
        """Return an IP to the node's pool (its cursor moves on, so it is not reused at once)."""
        with self._lock:
            if node in self._used:
                self._used[node].discard(ip)

    def _used_on(self, node: str) -> set[str]:
        if node not in self._used:
            self._used[node] = set(self._load_used(node))
        return self._used[node]
