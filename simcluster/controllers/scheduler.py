"""The simulated scheduler: bind pods without a node to a Ready node, round robin."""

from __future__ import annotations

import itertools
import threading
from typing import Any

from simcluster import resources
from simcluster.controllers.context import Context, node_is_ready
from simcluster.controllers.podstatus import unscheduled_status
from simcluster.watch import ChangeEvent

Obj = dict[str, Any]


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
        fitting = [n["metadata"]["name"] for n in self._ready_nodes() if node_matches(pod, n)]
        chosen = choose_node(fitting, next(self._turns))
        namespace, _, name = key.partition("/")
        if chosen is None:
            with self._lock:
                self._waiting.add(key)
            total = self._ctx.store.count(resources.NODES)
            message = (
                f"0/{total} nodes are available: {total} node(s) didn't match "
                "Pod's node affinity/selector."
            )
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

    def _ready_nodes(self) -> list[Obj]:
        with self._lock:
            nodes = self._nodes
        if nodes is None:
            nodes = [n for n in self._ctx.store.list_objects(resources.NODES) if node_is_ready(n)]
            with self._lock:
                self._nodes = nodes
        return nodes
