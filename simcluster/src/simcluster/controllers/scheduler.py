"""The simulated scheduler: bind pods without a node to a Ready node that fits them, round robin.

A node fits a pod when its labels satisfy the pod's ``nodeSelector`` and, for a pod that requests
CPU or memory, its allocatable resources still hold the pod's requests beside those of the pods
already bound to it; a pod no node fits stays Pending with the scheduler's reasons.
"""

from __future__ import annotations

import itertools
import re
import threading
from collections import Counter
from typing import Any

from simcluster import resources
from simcluster.controllers.context import Context, node_is_ready
from simcluster.controllers.podstatus import unscheduled_status
from simcluster.selectors import parse_field_selector
from simcluster.store import supports_field
from simcluster.watch import ChangeEvent

Obj = dict[str, Any]
DONE_PHASES = frozenset({"Succeeded", "Failed"})
SCHEDULED_RESOURCES = ("cpu", "memory")
_QUANTITY = re.compile(r"^([0-9.]+)([a-zA-Z]*)$")
_SUFFIXES = {
    "": 1.0,
    "m": 1e-3,
    "k": 1e3,
    "M": 1e6,
    "G": 1e9,
    "T": 1e12,
    "Ki": 2.0**10,
    "Mi": 2.0**20,
    "Gi": 2.0**30,
    "Ti": 2.0**40,
}


def parse_quantity(text: object) -> float:
    """A Kubernetes quantity (``250m``, ``2``, ``128Mi``) as a number; 0 when unreadable."""
    found = _QUANTITY.match(str(text).strip())
    if found is None or found.group(2) not in _SUFFIXES:
        return 0.0
    return float(found.group(1)) * _SUFFIXES[found.group(2)]


def pod_requests(pod: Obj) -> dict[str, float]:
    """The CPU and memory a pod's containers request, summed."""
    total: dict[str, float] = {}
    for container in (pod.get("spec") or {}).get("containers") or []:
        requests = (container.get("resources") or {}).get("requests") or {}
        for name in SCHEDULED_RESOURCES:
            if name in requests:
                total[name] = total.get(name, 0.0) + parse_quantity(requests[name])
    return total


def insufficient(node: Obj, wanted: dict[str, float], bound: list[Obj]) -> list[str]:
    """The resources ``node`` lacks for a pod requesting ``wanted``, beside its ``bound`` pods."""
    allocatable = (node.get("status") or {}).get("allocatable") or {}
    used: dict[str, float] = {}
    for pod in bound:
        for name, amount in pod_requests(pod).items():
            used[name] = used.get(name, 0.0) + amount
    return [
        name
        for name, amount in sorted(wanted.items())
        if name in allocatable and used.get(name, 0.0) + amount > parse_quantity(allocatable[name])
    ]


def unschedulable_message(total: int, reasons: Counter[str]) -> str:
    """The scheduler's message, e.g. ``0/5 nodes are available: 5 Insufficient cpu.``"""
    parts = ", ".join(f"{count} {reason}" for reason, count in sorted(reasons.items()))
    return f"0/{total} nodes are available: {parts}."


def choose_node(candidates: list[str], turn: int) -> str | None:
    """The node for the ``turn``-th placement among ``candidates`` (round robin)."""
    if not candidates:
        return None
    return candidates[turn % len(candidates)]


def node_matches(pod: Obj, node: Obj) -> bool:
    """Whether the pod's ``nodeSelector`` allows the node."""
    wanted = (pod.get("spec") or {}).get("nodeSelector") or {}
    labels = node["metadata"].get("labels") or {}
    return all(labels.get(k) == v for k, v in wanted.items())


class Scheduler:
    """Binds pending pods to nodes.

    Args:
        ctx: The shared controller context.
    """

    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx
        self._turns = itertools.count()
        self._waiting: set[str] = set()
        self._lock = threading.Lock()
        self._nodes: list[Obj] | None = None

    def on_pod(self, event: ChangeEvent, pod: Obj) -> None:
        """Queue a pod that has no node yet (called under the store lock)."""
        key = f"{event.namespace}/{event.name}"
        if event.type != "DELETED" and not pod["spec"].get("nodeName"):
            self._ctx.runtime.enqueue(self.reconcile, key)
        elif event.type == "DELETED":
            with self._lock:
                self._waiting.discard(key)
                waiting = list(self._waiting)
            # A bound pod that goes frees its node's resources for the pods still waiting.
            for other in waiting:
                self._ctx.runtime.enqueue(self.reconcile, other)

    def on_node(self, event: ChangeEvent) -> None:
        """Retry pods that found no node when nodes change."""
        del event
        with self._lock:
            self._nodes = None
            waiting = list(self._waiting)
        for key in waiting:
            self._ctx.runtime.enqueue(self.reconcile, key)

    def reconcile(self, key: str) -> None:
        """Bind one pod, or mark it unschedulable."""
        pod = self._ctx.find(resources.PODS, key)
        if pod is None or pod["spec"].get("nodeName"):
            with self._lock:
                self._waiting.discard(key)
            return
        fitting, reasons = self._fitting_nodes(pod)
        chosen = choose_node(fitting, next(self._turns))
        namespace, _, name = key.partition("/")
        if chosen is None:
            with self._lock:
                self._waiting.add(key)
            total = self._ctx.store.count(resources.NODES)
            reasons["node(s) didn't match Pod's node affinity/selector"] += total - sum(
                reasons.values()
            )
            message = unschedulable_message(total, +reasons)
            status = unscheduled_status(self._ctx.now(), "Unschedulable", message)

            def mark(current: Obj) -> None:
                current["status"] = status

            self._ctx.store.update(resources.PODS, namespace, name, mark)
            self._ctx.events.record(
                pod,
                kind="Warning",
                reason="FailedScheduling",
                message=message,
                component="default-scheduler",
            )
            return
        with self._lock:
            self._waiting.discard(key)

        def bind(current: Obj) -> None:
            current["spec"]["nodeName"] = chosen

        self._ctx.store.update(resources.PODS, namespace, name, bind)

    def _fitting_nodes(self, pod: Obj) -> tuple[list[str], Counter[str]]:
        """The Ready nodes the pod fits on, and why the others among them do not fit."""
        matching = [n for n in self._ready_nodes() if node_matches(pod, n)]
        wanted = pod_requests(pod)
        if not wanted:
            return [n["metadata"]["name"] for n in matching], Counter()
        fitting: list[str] = []
        reasons: Counter[str] = Counter()
        for node in matching:
            name = node["metadata"]["name"]
            lacking = insufficient(node, wanted, self._bound_to(name))
            if lacking:
                reasons.update(f"Insufficient {resource}" for resource in lacking)
            else:
                fitting.append(name)
        return fitting, reasons

    def _bound_to(self, node: str) -> list[Obj]:
        selector = parse_field_selector(
            f"spec.nodeName={node}", supported=supports_field(resources.PODS)
        )
        pods = self._ctx.store.list_objects(resources.PODS, field_selector=selector)
        return [p for p in pods if (p.get("status") or {}).get("phase") not in DONE_PHASES]

    def _ready_nodes(self) -> list[Obj]:
        with self._lock:
            nodes = self._nodes
        if nodes is None:
            nodes = [n for n in self._ctx.store.list_objects(resources.NODES) if node_is_ready(n)]
            with self._lock:
                self._nodes = nodes
        return nodes
