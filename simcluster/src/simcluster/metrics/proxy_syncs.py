"""When each node's kube-proxy syncs its rules, and what its sync metrics have recorded.

kube-proxy syncs once on start, within ``minSyncPeriod`` of a Service or EndpointSlice change,
and at least every ``syncPeriod``. Syncs fail while the node's rules are frozen by a fault.
The simulation runs lazily: each read replays the syncs due since the last read from the
changes the store reported, so nothing runs on a timer (the controllers' `settle` stays
exact). Whether the rules are frozen is sampled at each read; Prometheus reads every second
or two, so a fault's moment is known to within a scrape.
"""

from __future__ import annotations

import itertools
import re
import threading
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

import yaml

from simcluster import resources
from simcluster.clock import Clock
from simcluster.controllers.kubelet import current_run
from simcluster.kubeproxy import KubeProxies
from simcluster.metrics.exposition import Histogram, exponential_buckets, linear_buckets
from simcluster.store import Store
from simcluster.watch import ChangeEvent

Change = Literal["service", "endpoints"]
# kube-proxy's buckets (pkg/proxy/metrics): syncs from 1ms doubling, programming to 5 minutes.
SYNC_BUCKETS = exponential_buckets(0.001, 2, 15)
PROGRAMMING_BUCKETS = [
    *linear_buckets(0.25, 0.25, 2),
    *linear_buckets(1, 1, 59),
    *linear_buckets(60, 5, 12),
    *linear_buckets(120, 30, 7),
]
# A running kube-proxy's first sync waits for its informers; the simulated logs say 1s too.
_FIRST_SYNC_DELAY = 1.0
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s)")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


@dataclass
class ProxyProcess:
    """One run of kube-proxy on a node (a restarted container starts a new one, from zero)."""

    pod_uid: str
    restarts: int
    started: float
    last_attempt: float
    queued: float | None
    cursor: int
    last_sync: float = 0.0
    last_queued: float = 0.0
    restore_failures: int = 0
    service_changes: int = 0
    endpoint_changes: int = 0
    pending: list[float] = field(default_factory=list)
    syncs: Histogram = field(default_factory=lambda: Histogram(SYNC_BUCKETS))
    programming: Histogram = field(default_factory=lambda: Histogram(PROGRAMMING_BUCKETS))


@dataclass(frozen=True)
class _Periods:
    sync: float
    min_sync: float


class ProxySyncs:
    """Every node's kube-proxy as its metrics see it: the running process and its syncs.

    Args:
        store: The Services and EndpointSlices whose changes kube-proxy syncs (listened to),
            and the kube-proxy pods.
        kube_proxies: Which nodes' rules are frozen (syncs there fail), the configuration.
        clock: The time syncs and changes happen at.
        remembered: How many changes to keep for kube-proxies not read for a while.
    """

    def __init__(
        self, store: Store, *, kube_proxies: KubeProxies, clock: Clock, remembered: int = 10_000
    ) -> None:
        self._kube_proxies = kube_proxies
        self._clock = clock
        self._lock = threading.Lock()
        self._changes: deque[tuple[int, float, Change]] = deque(maxlen=remembered)
        self._sequence = 0
        self._processes: dict[str, ProxyProcess] = {}
        store.listen(self._on_change)

    def _on_change(self, event: ChangeEvent) -> None:
        # Called under the store lock: bookkeeping only.
        if event.resource is resources.SERVICES:
            kind: Change = "service"
        elif event.resource is resources.ENDPOINTSLICES:
            kind = "endpoints"
        else:
            return
        at = self._clock.now().timestamp()
        with self._lock:
            self._sequence += 1
            self._changes.append((self._sequence, at, kind))

    def process(self, node: str) -> ProxyProcess | None:
        """The node's running kube-proxy with its syncs replayed up to now (None: not running)."""
        running = self._running_pod(node)
        if running is None:
            return None
        uid, restarts, started = running
        frozen = self._kube_proxies.stale_rules(node) is not None
        rules = self._kube_proxies.rules(node)
        duration = 0.008 + 0.0004 * sum(1 + len(p.endpoints) for p in rules)
        periods = self._periods()
        now = self._clock.now().timestamp()
        with self._lock:
            current = self._processes.get(node)
            if current is None or (current.pod_uid, current.restarts) != (uid, restarts):
                current = self._processes[node] = ProxyProcess(
                    uid,
                    restarts,
                    started,
                    last_attempt=started,
                    queued=started + _FIRST_SYNC_DELAY,
                    cursor=self._first_change_after(started),
                )
            self._replay(current, now, periods, frozen=frozen, duration=duration)
            return current

    def _replay(
        self, proc: ProxyProcess, now: float, periods: _Periods, *, frozen: bool, duration: float
    ) -> None:
        # Sequences are consecutive, so the unread changes start at a known offset.
        offset = max(0, proc.cursor - self._changes[0][0]) if self._changes else 0
        changes = [c for c in itertools.islice(self._changes, offset, None) if c[1] <= now]
        index = 0
        while True:
            periodic = proc.last_attempt + periods.sync
            due = periodic if proc.queued is None else min(periodic, proc.queued)
            if index < len(changes) and changes[index][1] <= due:
                sequence, at, kind = changes[index]
                index += 1
                proc.cursor = sequence + 1
                proc.last_queued = at
                if kind == "service":
                    proc.service_changes += 1
                else:
                    proc.endpoint_changes += 1
                    proc.pending.append(at)
                # BoundedFrequencyRunner: at once, but no sooner than minSyncPeriod after the last.
                request = max(at, proc.last_attempt + periods.min_sync)
                proc.queued = request if proc.queued is None else min(proc.queued, request)
                continue
            if due > now:
                return
            self._sync(proc, due, frozen=frozen, duration=duration)

    @staticmethod
    def _sync(proc: ProxyProcess, at: float, *, frozen: bool, duration: float) -> None:
        proc.last_attempt, proc.queued = at, None
        proc.syncs.observe(duration)
        finished = at + duration
        # The sync consumed the pending endpoint changes before iptables-restore ran, so when it
        # fails their trigger times are lost: a failed sync never shows as programming latency.
        pending, proc.pending = proc.pending, []
        if frozen:
            proc.restore_failures += 1
            return
        for trigger in pending:
            proc.programming.observe(finished - trigger)
        proc.last_sync = finished

    def _first_change_after(self, started: float) -> int:
        for sequence, at, _ in self._changes:
            if at >= started:
                return sequence
        return self._sequence + 1

    def _running_pod(self, node: str) -> tuple[str, int, float] | None:
        for pod in self._kube_proxies.pods([node]):
            run = current_run(pod)
            if run is not None and run.stage == "running" and run.started_at:
                started = datetime.fromisoformat(run.started_at.replace("Z", "+00:00"))
                return pod["metadata"]["uid"], run.restart_count, started.timestamp()
        return None

    def _periods(self) -> _Periods:
        loaded = yaml.safe_load(self._kube_proxies.config() or "{}") or {}
        section = loaded.get(str(loaded.get("mode") or "iptables")) or {}
        return _Periods(
            sync=go_duration(section.get("syncPeriod"), default=30.0),
            min_sync=go_duration(section.get("minSyncPeriod"), default=1.0),
        )


def go_duration(text: object, *, default: float) -> float:
    """Seconds in a Go duration such as ``30s`` or ``1m0s`` (``default`` when absent or bad)."""
    if not isinstance(text, str):
        return default
    parts = _DURATION.findall(text)
    if not parts or "".join(number + unit for number, unit in parts) != text:
        return default
    total = sum(float(number) * _UNITS[unit] for number, unit in parts)
    return total if total > 0 else default
