"""Kubernetes Events (core/v1) recorded by the simulated components, bounded in number."""

from __future__ import annotations

import contextlib
import itertools
import threading
from collections import OrderedDict
from typing import Any, Literal

from simcluster import resources
from simcluster.clock import Clock
from simcluster.errors import NotFoundError
from simcluster.objects import format_time
from simcluster.store import Store

EventKind = Literal["Normal", "Warning"]


class EventRecorder:
    """Writes Events, folding repeats into one with a rising ``count`` as Kubernetes does.

    Args:
        store: Where Events are stored.
        clock: Source of timestamps.
        limit: How many Events are kept; the oldest are deleted first.
    """

    def __init__(self, store: Store, clock: Clock, *, limit: int) -> None:
        self._store = store
        self._clock = clock
        self._limit = limit
        self._lock = threading.Lock()
        self._names: OrderedDict[tuple[str, str, str, str], tuple[str, str]] = OrderedDict()
        self._sequence = itertools.count(1)

    def record(
        self,
        involved: dict[str, Any],
        *,
        kind: EventKind,
        reason: str,
        message: str,
        component: str = "kubelet",
        field_path: str | None = None,
    ) -> None:
        """Record that ``reason`` happened to ``involved`` (a Pod, Node, DaemonSet, ...)."""
        meta = involved["metadata"]
        namespace = meta.get("namespace") or "default"
        host = (involved.get("spec") or {}).get("nodeName") if component == "kubelet" else None
        key = (meta.get("uid", ""), reason, message, field_path or "")
        now = format_time(self._clock.now())
        with self._lock:
            existing = self._names.get(key)
            if existing is not None and self._bump(existing, now):
                self._names.move_to_end(key)
                return
            name = f"{meta['name']}.{self._clock.now().timestamp() * 1e9:.0f}{next(self._sequence)}"
            ref: dict[str, Any] = {
                "apiVersion": involved.get("apiVersion", "v1"),
                "kind": involved.get("kind", "Pod"),
                "name": meta["name"],
                "namespace": namespace,
                "uid": meta.get("uid", ""),
            }
            if field_path:
                ref["fieldPath"] = field_path
            source: dict[str, str] = {"component": component}
            if host:
                source["host"] = host
            event = {
                "metadata": {"name": name, "namespace": namespace},
                "involvedObject": ref,
                "reason": reason,
                "message": message,
                "source": source,
                "firstTimestamp": now,
                "lastTimestamp": now,
                "count": 1,
                "type": kind,
                "reportingComponent": component,
                "reportingInstance": host or "",
            }
            try:
                self._store.create(resources.EVENTS, event, namespace=namespace)
            except NotFoundError:
                return  # the namespace is gone; nothing to report into
            self._names[key] = (namespace, name)
            while len(self._names) > self._limit:
                _, (old_ns, old_name) = self._names.popitem(last=False)
                self._delete(old_ns, old_name)

    def _bump(self, where: tuple[str, str], now: str) -> bool:
        def mutate(event: dict[str, Any]) -> None:
            event["count"] = int(event.get("count") or 1) + 1
            event["lastTimestamp"] = now

        try:
            self._store.update(resources.EVENTS, where[0], where[1], mutate)
        except NotFoundError:
            return False
        return True

    def _delete(self, namespace: str, name: str) -> None:
        # Already deleted by a client.
        with contextlib.suppress(NotFoundError):
            self._store.delete(resources.EVENTS, namespace, name)
