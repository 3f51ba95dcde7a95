"""Per-node connection-tracking tables: seeded flows to Service VIPs, stale ones to gone pods."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from simcluster import resources
from simcluster.errors import NotFoundError
from simcluster.selectors import LabelSelector, selector_from_match_labels
from simcluster.store import Store

Obj = dict[str, Any]
ServiceSelectors = Callable[[str], list[tuple[str, LabelSelector]]]
_PROTOCOL_NUMBERS = {"tcp": 6, "udp": 17, "sctp": 132}
# net.netfilter.nf_conntrack_max of a node, as /proc shows it in its pods.
DEFAULT_LIMIT = 262144


@dataclass(frozen=True)
class Flow:
    """One conntrack entry: the original direction (client to VIP) and the NATed reply."""

    proto: str
    src: str
    dst: str
    sport: int
    dport: int
    reply_src: str
    reply_dport: int
    timeout: int

    def render(self) -> str:
        """The line ``conntrack -L`` prints."""
        state = "ESTABLISHED " if self.proto == "tcp" else ""
        assured = " [ASSURED]" if self.proto == "tcp" else ""
        return (
            f"{self.proto:<8} {_PROTOCOL_NUMBERS[self.proto]} {self.timeout} {state}"
            f"src={self.src} dst={self.dst} sport={self.sport} dport={self.dport} "
            f"src={self.reply_src} dst={self.src} sport={self.reply_dport} dport={self.sport}"
            f"{assured} mark=0 use=1"
        )


@dataclass(frozen=True)
class GonePod:
    """A deleted pod whose flows may linger in conntrack."""

    sequence: int
    ip: str
    namespace: str
    labels: dict[str, str]


@dataclass
class _Table:
    flows: list[Flow] = field(default_factory=list)
    seen: int = 0
    limit: int = DEFAULT_LIMIT


class ConntrackTables:
    """Every node's conntrack table, created on first use from the cluster's current state.

    Args:
        store: The Services, EndpointSlices and nodes that seed the flows.
        service_selectors: The selector Services of a namespace, by name: a deleted pod leaves
            stale flows to the VIPs of the Services that selected it.
        remembered: How many deleted pods to remember.
    """

    def __init__(
        self, store: Store, *, service_selectors: ServiceSelectors, remembered: int = 1000
    ) -> None:
        self._store = store
        self._service_selectors = service_selectors
        self._lock = threading.Lock()
        self._tables: dict[str, _Table] = {}
        self._gone: deque[GonePod] = deque(maxlen=remembered)
        self._sequence = 0

    def pod_deleted(self, pod: Obj) -> None:
        """Remember a deleted pod's IP (called under the store lock: bookkeeping only)."""
        ip = (pod.get("status") or {}).get("podIP")
        if not ip or pod["spec"].get("hostNetwork"):
            return
        with self._lock:
            self._sequence += 1
            meta = pod["metadata"]
            self._gone.append(
                GonePod(
                    self._sequence, ip, meta.get("namespace", ""), dict(meta.get("labels") or {})
                )
            )

    def flows(self, node: str) -> list[Flow]:
        """The node's current flows (seeding the table on first use)."""
        with self._lock:
            table = self._table(node)
            return list(table.flows)

    def replace(self, node: str, flows: list[Flow]) -> None:
        """Set the node's flows (after a delete or flush)."""
        with self._lock:
            self._table(node).flows = list(flows)

    def count(self, node: str) -> int:
        """How many entries the node's table holds (``nf_conntrack_count``)."""
        with self._lock:
            return len(self._table(node).flows)

    def limit(self, node: str) -> int:
        """The node's table size (``nf_conntrack_max``)."""
        with self._lock:
            return self._table(node).limit

    def set_limit(self, node: str, limit: int) -> None:
        """Resize the node's table (what ``sysctl net.netfilter.nf_conntrack_max`` does)."""
        with self._lock:
            self._table(node).limit = limit

    def fill(self, node: str, count: int) -> list[Flow]:
        """Add ``count`` stale UDP entries to the node's table (capped at its limit).

        They are DNS lookups from the node's pods to the cluster DNS VIP that a gone DNS pod
        answered, kept alive by clients that keep sending: what conntrack cleanup deletes.
        Returns the entries added.
        """
        vip = _dns_vip(self._store)
        network = _node_network(self._store, node).split(".")[:3]
        gone = ".".join([*network, "254"])
        with self._lock:
            table = self._table(node)
            room = max(0, min(count, table.limit - len(table.flows)))
            # Each entry its own client port (60000 per client address), as real lookups are.
            clients = [".".join([*network, str(200 + n)]) for n in range(50)]
            added = [
                Flow("udp", clients[i // 60000 % 50], vip, 1024 + i % 60000, 53, gone, 53, 29)
                for i in range(room)
            ]
            table.flows.extend(added)
        return added

    def remove(self, node: str, flows: list[Flow]) -> None:
        """Drop these entries from the node's table where they are still present."""
        unwanted = set(flows)
        with self._lock:
            table = self._table(node)
            table.flows = [f for f in table.flows if f not in unwanted]

    def _table(self, node: str) -> _Table:
        table = self._tables.get(node)
        if table is None:
            table = self._tables[node] = _Table(flows=list(self._seed(node)))
        fresh = [g for g in self._gone if g.sequence > table.seen]
        for gone in fresh:
            table.flows.extend(self._stale_flows(gone, node))
        if fresh:
            table.seen = fresh[-1].sequence
        return table

    def _client_ip(self, node: str, index: int) -> str:
        octets = [int(x) for x in _node_network(self._store, node).split(".")[:3]]
        return f"{octets[0]}.{octets[1]}.{octets[2]}.{200 + index % 50}"

    def _seed(self, node: str) -> Iterator[Flow]:
        store = self._store
        services = store.list_objects(resources.SERVICES)
        count = 0
        for service in services:
            spec = service.get("spec") or {}
            vip = spec.get("clusterIP")
            if not vip or vip == "None" or count >= 12:
                continue
            slices = store.list_objects(
                resources.ENDPOINTSLICES,
                namespace=service["metadata"]["namespace"],
                label_selector=selector_from_match_labels(
                    {"kubernetes.io/service-name": service["metadata"]["name"]}
                ),
            )
            for slice_ in slices:
                ports = slice_.get("ports") or []
                for endpoint in (slice_.get("endpoints") or [])[:2]:
                    for port, slice_port in zip(spec.get("ports") or [], ports, strict=False):
                        proto = str(port.get("protocol", "TCP")).lower()
                        count += 1
                        yield Flow(
                            proto,
                            self._client_ip(node, count),
                            vip,
                            40000 + count * 37 % 20000,
                            int(port["port"]),
                            endpoint["addresses"][0],
                            int(slice_port["port"]),
                            86397 if proto == "tcp" else 117,
                        )

    def _stale_flows(self, gone: GonePod, node: str) -> Iterator[Flow]:
        for name, selector in self._service_selectors(gone.namespace):
            if not selector.matches(gone.labels):
                continue
            try:
                service = self._store.get(resources.SERVICES, gone.namespace, name)
            except NotFoundError:
                continue
            vip = str((service.get("spec") or {}).get("clusterIP") or "")
            if not vip or vip == "None":
                continue
            for port in (service.get("spec") or {}).get("ports") or []:
                target = port.get("targetPort", port["port"])
                proto = str(port.get("protocol", "TCP")).lower()
                number = target if isinstance(target, int) else int(port["port"])
                yield Flow(
                    proto,
                    self._client_ip(node, gone.sequence),
                    vip,
                    50000 + gone.sequence % 10000,
                    int(port["port"]),
                    gone.ip,
                    number,
                    29 if proto == "udp" else 431999,
                )


def _dns_vip(store: Store) -> str:
    try:
        service = store.get(resources.SERVICES, "kube-system", "kube-dns")
    except NotFoundError:
        return "10.96.0.10"
    return str((service.get("spec") or {}).get("clusterIP") or "10.96.0.10")


def _node_network(store: Store, node: str) -> str:
    try:
        obj = store.get(resources.NODES, None, node)
    except NotFoundError:
        return "10.0.0.0"
    return str(((obj.get("spec") or {}).get("podCIDR") or "10.0.0.0/24").split("/")[0])
