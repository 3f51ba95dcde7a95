"""The engine's changes to a simulated cluster, per object, with hooks at the moment of change."""

from __future__ import annotations

import hashlib
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

from simcluster import resources
from simcluster.cluster import SimCluster
from simcluster.resources import ResourceType

Obj = dict[str, Any]

DELETE_POD = "delete pod"
WRITE_SERVICE = "write Service"
WRITE_DAEMONSET = "write DaemonSet"
CONNTRACK_DELETE = "conntrack delete"
#: Kinds whose spec-changing writes through the API are changes of the engine's.
_WRITTEN = {resources.SERVICES: WRITE_SERVICE, resources.DAEMONSETS: WRITE_DAEMONSET}


@dataclass(frozen=True)
class Change:
    """One change applied through the API.

    Attributes:
        action: What was done (`DELETE_POD`, `WRITE_SERVICE`, ...).
        target: The object, as ``namespace/name`` (for a write, with its new spec's digest;
            for a conntrack deletion, the node and the command).
    """

    action: str
    target: str


@dataclass
class _Hook:
    matches: Callable[[Change], bool]
    callback: Callable[[Change], None]
    fired: threading.Event = field(default_factory=threading.Event)


def _digest(value: object) -> str:
    return hashlib.sha256(orjson.dumps(value, option=orjson.OPT_SORT_KEYS)).hexdigest()[:12]


class ChangeLog:
    """Counts the changes made through a simulated cluster's API, from the moment it is made.

    It wraps, on this cluster object only, the three places every API change goes through:
    ``cluster.delete`` (API deletes only; controllers write to the store), admission followed
    by the store write (updates and patches that change a Service's or DaemonSet's spec), and
    ``pod_exec.run`` (``conntrack -D``/``-F`` that deleted entries).
    Hooks run on the API server's thread, under the store's lock for deletes and writes: they
    must only signal (set an event, start a thread, send a signal).
    """

    def __init__(self, cluster: SimCluster) -> None:
        """Start counting on ``cluster`` (before it is served)."""
        self._cluster = cluster
        self._lock = threading.Lock()
        self._changes: list[Change] = []
        self._hooks: list[_Hook] = []
        self._pending = threading.local()
        self._wrap_delete()
        self._wrap_writes()
        self._wrap_exec()

    def changes(self, action: str | None = None) -> list[Change]:
        """The changes so far, oldest first (only ``action``'s when given)."""
        with self._lock:
            return [c for c in self._changes if action is None or c.action == action]

    def twice(self) -> int:
        """Changes that repeat an earlier one on the same object."""
        counts = Counter(self.changes())
        return sum(count - 1 for count in counts.values())

    def by_action(self) -> tuple[tuple[str, int], ...]:
        """How many changes of each action, sorted by action."""
        return tuple(sorted(Counter(change.action for change in self.changes()).items()))

    def summary(self) -> str:
        """Changes by action, e.g. ``delete pod x2``."""
        counts = self.by_action()
        return ", ".join(f"{action} x{count}" for action, count in counts) or "no change"

    def when(
        self, matches: Callable[[Change], bool], callback: Callable[[Change], None]
    ) -> threading.Event:
        """Call ``callback`` once, right after the first change that ``matches`` is applied.

        Returns:
            An event set once the callback has run.
        """
        hook = _Hook(matches, callback)
        with self._lock:
            self._hooks.append(hook)
        return hook.fired

    def _record(self, change: Change) -> None:
        with self._lock:
            self._changes.append(change)
            due = [hook for hook in self._hooks if hook.matches(change)]
            self._hooks = [hook for hook in self._hooks if hook not in due]
        for hook in due:
            hook.callback(change)
            hook.fired.set()

    def _wrap_delete(self) -> None:
        original = self._cluster.delete

        def delete(rt: ResourceType, namespace: str | None, name: str, **options: Any) -> Obj:
            deleted = original(rt, namespace, name, **options)
            if rt is resources.PODS:
                self._record(Change(DELETE_POD, f"{namespace}/{name}"))
            return deleted

        self._cluster.delete = delete  # type: ignore[method-assign]  # wrapped to count changes

    def _wrap_writes(self) -> None:
        admission, store = self._cluster.admission, self._cluster.store
        admit, replace = admission.admit, store.replace
        pending = self._pending

        def admitted(rt: ResourceType, obj: Obj, *, old: Obj | None) -> None:
            admit(rt, obj, old=old)
            changed = old is not None and old.get("spec") != obj.get("spec")
            pending.write = (rt, obj) if rt in _WRITTEN and changed else None

        def replaced(rt: ResourceType, obj: Obj, *, subresource: str | None = None) -> Obj:
            written = replace(rt, obj, subresource=subresource)
            write = getattr(pending, "write", None)
            if write is not None and write[0] is rt and write[1] is obj and subresource is None:
                pending.write = None
                meta = obj["metadata"]
                target = f"{meta.get('namespace')}/{meta['name']} spec {_digest(obj.get('spec'))}"
                self._record(Change(_WRITTEN[rt], target))
            return written

        admission.admit = admitted  # type: ignore[method-assign]  # wrapped to count changes
        store.replace = replaced  # type: ignore[method-assign]  # wrapped to count changes

    def _wrap_exec(self) -> None:
        pod_exec, store = self._cluster.pod_exec, self._cluster.store
        run = pod_exec.run

        def exec_run(
            namespace: str, name: str, *, container: str | None, command: list[str]
        ) -> Any:
            result = run(namespace, name, container=container, command=command)
            deletes = command[:1] == ["conntrack"] and ("-D" in command or "-F" in command)
            if deletes and result.exit_code == 0:
                node = store.get(resources.PODS, namespace, name)["spec"].get("nodeName", "")
                self._record(Change(CONNTRACK_DELETE, f"{node}: {' '.join(command)}"))
            return result

        pod_exec.run = exec_run  # type: ignore[method-assign]  # wrapped to count execs
