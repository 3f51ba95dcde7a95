"""Per-node connection-tracking tables: seeded flows to Service VIPs, stale ones to gone pods."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from simcluster import resources
from simcluster.errors import NotFoundError
from simcluster.selectors import selector_from_match_labels

if TYPE_CHECKING:
    from simcluster.cluster import SimCluster

Obj = dict[str, Any]
_PROTOCOL_NUMBERS = {"tcp": 6, "udp": 17, "sctp": 132}


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


class ConntrackTables:
    """Every node's conntrack table, created on first use from the cluster's current state.

    Args:
        cluster: The cluster whose Services, EndpointSlices and pods seed the flows.
    """

    def __init__(self, cluster: SimCluster, *, remembered: int = 1000) -> None:
        self._cluster = cluster
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
        octets = [int(x) for x in _node_network(self._cluster, node).split(".")[:3]]
        return f"{octets[0]}.{octets[1]}.{octets[2]}.{200 + index % 50}"

    def _seed(self, node: str) -> Iterator[Flow]:
        store = self._cluster.store
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
        for name, selector in self._cluster.endpoints.selectors_in(gone.namespace):
            if not selector.matches(gone.labels):
                continue
            try:
                service = self._cluster.store.get(resources.SERVICES, gone.namespace, name)
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


def _node_network(cluster: SimCluster, node: str) -> str:
    try:
        obj = cluster.store.get(resources.NODES, None, node)
    except NotFoundError:
        return "10.0.0.0"
    return str(((obj.get("spec") or {}).get("podCIDR") or "10.0.0.0/24").split("/")[0])
