"""Work done in the background, in order per key: a run's Slack lines, without holding the run."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable

Job = Callable[[], None]


class Lanes:
    """One lane per key (a flow run): its jobs run in the order given, on a thread of its own
    that lives while the lane has work. Lanes never wait for each other.

    A job should handle the failures it expects; one that raises ends its lane's thread (the
    error goes to ``threading.excepthook``, i.e. the log), and the lane's queued jobs are dropped.
    """

    def __init__(self, name: str = "lane") -> None:
        """Lanes whose threads are named ``<name>-<key>``."""
        self._name = name
        self._lock = threading.Lock()
        self._queues: dict[str, deque[Job]] = {}
        self._idle: dict[str, threading.Event] = {}

    def submit(self, key: str, job: Job) -> None:
        """Run ``job`` after the jobs already given for ``key``."""
        with self._lock:
            queue = self._queues.get(key)
            start = queue is None
            if queue is None:
                queue = self._queues[key] = deque()
                self._idle[key] = threading.Event()
            queue.append(job)
        if start:
            name = f"{self._name}-{key[:8]}"
            threading.Thread(target=self._drain, args=(key,), name=name, daemon=True).start()

    def wait(self, key: str, timeout: float) -> bool:
        """Wait until ``key``'s jobs are done (at most ``timeout`` seconds); whether they are."""
        with self._lock:
            idle = self._idle.get(key)
        return True if idle is None else idle.wait(timeout)

    def _next(self, key: str) -> Job | None:
        with self._lock:
            queue = self._queues.get(key)
            if queue:
                return queue.popleft()
            # Closed under the same lock as the check: a job given now starts a new lane.
            self._queues.pop(key, None)
            idle = self._idle.pop(key, None)
        if idle is not None:
            idle.set()
        return None

    def _close(self, key: str) -> None:
        with self._lock:
            self._queues.pop(key, None)
            idle = self._idle.pop(key, None)
        if idle is not None:
            idle.set()

    def _drain(self, key: str) -> None:
        drained = False
        try:
            while (job := self._next(key)) is not None:
                job()
            drained = True
        finally:
            if not drained:  # a job raised: drop the rest, so waiters are not held for ever
                self._close(key)
