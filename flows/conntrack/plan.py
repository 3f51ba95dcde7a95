"""Deciding a conntrack cleanup: which entries are stale, on which nodes, deleted how.

Stale means kube-proxy DNATed the connection to a backend that is no longer there: the entry's
original destination is a Service's ClusterIP and the Pod IP that answers is not among the
Service's endpoints now, or (asked by Pod IP) the IP belongs to no live pod. Entries are
deleted by exactly that pair (``conntrack -D --orig-dst <ClusterIP> --reply-src <Pod IP>``),
never by ClusterIP alone, which would also cut the connections to live backends. A full flush
(``conntrack -F``) breaks every NATed connection on the node and is planned only when asked.
"""

from __future__ import annotations

import ipaddress
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

from flows.conntrack.entries import Entry, Match
from runbooks.approval import ActionKind


@dataclass(frozen=True, slots=True)
class Target:
    """What the operator asked to clean (nothing set: every Service's stale UDP entries)."""

    namespace: str | None = None
    service: str | None = None
    pod_ip: str | None = None
    full_flush: bool = False


@dataclass(frozen=True, slots=True)
class ServiceBackends:
    """A Service's ClusterIP and the addresses of its endpoints now."""

    namespace: str
    name: str
    cluster_ip: str
    endpoint_ips: frozenset[str]


@dataclass(frozen=True, slots=True)
class NodeTable:
    """The conntrack entries listed on a node (through its kube-proxy pod), or why not."""

    node: str
    pod: str | None
    entries: tuple[Entry, ...] = ()
    count: int | None = None
    problem: str | None = None


@dataclass(frozen=True, slots=True)
class Observation:
    """What a cleanup is decided from."""

    nodes: tuple[NodeTable, ...]
    services: tuple[ServiceBackends, ...]
    live_pods: Mapping[str, str]  # Pod IP -> namespace/name


@dataclass(frozen=True, slots=True)
class Deletion:
    """Delete ``match``'s entries on ``node``, through kube-proxy pod ``pod``."""

    node: str
    pod: str
    match: Match
    entries: int
    reason: str
    service: tuple[str, str] | None = None


@dataclass(frozen=True, slots=True)
class Flush:
    """Flush the whole table of ``node`` (``entries`` of them when counted)."""

    node: str
    pod: str
    entries: int | None


@dataclass(frozen=True, slots=True)
class CleanupPlan:
    """The deletions (or flushes) to carry out, and the nodes that could not be looked at."""

    deletions: tuple[Deletion, ...] = ()
    flushes: tuple[Flush, ...] = ()
    unreachable: tuple[str, ...] = ()

    @property
    def action(self) -> ActionKind:
        """The kind of change, as the approval policy names it."""
        return ActionKind.FLUSH_CONNTRACK if self.flushes else ActionKind.DELETE_STALE_CONNTRACK

    @property
    def nodes(self) -> tuple[str, ...]:
        """The nodes the plan changes, in order."""
        changed = [d.node for d in self.deletions] + [f.node for f in self.flushes]
        return tuple(dict.fromkeys(changed))

    @property
    def entries(self) -> int:
        """How many entries the plan deletes (flushes counted where known)."""
        return sum(d.entries for d in self.deletions) + sum(f.entries or 0 for f in self.flushes)


@dataclass(frozen=True, slots=True)
class NoCleanup:
    """Nothing to clean, and why."""

    reason: str


def plan_cleanup(target: Target, observation: Observation) -> CleanupPlan | NoCleanup:
    """Decide the cleanup for ``target`` from what was observed."""
    reachable = [table for table in observation.nodes if table.pod and table.problem is None]
    unreachable = tuple(
        f"{t.node}: {t.problem or 'no kube-proxy pod'}"
        for t in observation.nodes
        if t not in reachable
    )
    if target.full_flush:
        flushes = tuple(Flush(t.node, t.pod or "", t.count) for t in reachable)
        if not flushes:
            return NoCleanup("no node has a kube-proxy pod to flush through")
        return CleanupPlan(flushes=flushes, unreachable=unreachable)
    if target.pod_ip is not None:
        busy = _in_use(target.pod_ip, observation)
        if busy is not None:
            return NoCleanup(f"{target.pod_ip} {busy}: its entries are current, not stale")
        deletions = _deletions_for_gone_pod(target.pod_ip, reachable)
    else:
        deletions = _deletions_for_services(_services_of(target, observation), reachable)
    if not deletions:
        where = f"{len(reachable)} node(s)" + (
            f"; not seen: {len(unreachable)}" if unreachable else ""
        )
        return NoCleanup(f"no stale entries for {_describe(target)} on {where}")
    return CleanupPlan(deletions=tuple(deletions), unreachable=unreachable)


def _describe(target: Target) -> str:
    if target.pod_ip is not None:
        return f"Pod IP {target.pod_ip}"
    if target.service is not None:
        return f"Service {target.namespace}/{target.service}"
    return "any Service"


def _in_use(ip: str, observation: Observation) -> str | None:
    if ip in observation.live_pods:
        return f"belongs to live pod {observation.live_pods[ip]}"
    for service in observation.services:
        if ip in service.endpoint_ips:
            return f"is an endpoint of Service {service.namespace}/{service.name}"
    return None


def _services_of(target: Target, observation: Observation) -> list[ServiceBackends]:
    if target.service is None:
        return list(observation.services)
    return [
        s
        for s in observation.services
        if s.name == target.service and s.namespace == target.namespace
    ]


def _ip_order(ip: str) -> tuple[int, int | str]:
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return (2, ip)
    return (address.version, int(address))


def _deletions_for_gone_pod(ip: str, tables: list[NodeTable]) -> list[Deletion]:
    match = Match(reply_src=ip)
    deletions = []
    for table in tables:
        count = sum(1 for entry in table.entries if match.selects(entry))
        if count:
            reason = f"{count} entries answered by {ip}, which no live pod has"
            deletions.append(Deletion(table.node, table.pod or "", match, count, reason))
    return deletions


def _deletions_for_services(
    services: list[ServiceBackends], tables: list[NodeTable]
) -> list[Deletion]:
    deletions = []
    for table in tables:
        for service in sorted(services, key=lambda s: (s.namespace, s.name)):
            stale = Counter(
                entry.reply_src
                for entry in table.entries
                if entry.dst == service.cluster_ip and entry.reply_src not in service.endpoint_ips
            )
            for ip, count in sorted(stale.items(), key=lambda item: _ip_order(item[0])):
                reason = (
                    f"{count} entries to {service.namespace}/{service.name} "
                    f"({service.cluster_ip}) answered by {ip}, no longer an endpoint"
                )
                match = Match(reply_src=ip, orig_dst=service.cluster_ip)
                owner = (service.namespace, service.name)
                deletions.append(Deletion(table.node, table.pod or "", match, count, reason, owner))
    return deletions
