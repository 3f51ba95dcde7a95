"""The controllers' single worker: a de-duplicating work queue and timers on an injectable clock."""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
from collections import deque
from collections.abc import Callable

from simcluster.clock import Clock
from simcluster.errors import ApiError

Handler = Callable[[str], None]
_log = logging.getLogger(__name__)


class Runtime:
    """Runs every controller's reconcile calls one at a time, on one thread or inline.

    Work is ``(handler, key)``; the same pair queued twice runs once. Timers put work on the
    queue when due. Without `start`, `settle` runs the work on the caller's thread, which
    makes tests deterministic (with a `FakeClock`, waiting for timers is instant).

    Args:
        clock: Where time comes from.
    """

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._cond = threading.Condition()
        self._queue: deque[tuple[Handler, str]] = deque()
        self._queued: set[tuple[Handler, str]] = set()
        self._timers: list[tuple[float, int, Handler, str]] = []
        self._sequence = itertools.count()
        self._busy = False
        self._thread: threading.Thread | None = None
        self._stopping = False

    def enqueue(self, handler: Handler, key: str) -> None:
        """Queue one reconcile (a no-op when the same one is already waiting)."""
        with self._cond:
            if (handler, key) not in self._queued:
                self._queued.add((handler, key))
                self._queue.append((handler, key))
                self._cond.notify_all()

    def schedule(self, delay: float, handler: Handler, key: str) -> None:
        """Queue a reconcile ``delay`` seconds from now."""
        with self._cond:
            due = self.clock.monotonic() + max(0.0, delay)
            heapq.heappush(self._timers, (due, next(self._sequence), handler, key))
            self._cond.notify_all()

    def start(self) -> None:
        """Process work on a background daemon thread until `stop`."""
        with self._cond:
            if self._thread is not None:
                return
            self._stopping = False
            self._thread = threading.Thread(target=self._loop, name="simcluster-controllers")
            self._thread.daemon = True
            self._thread.start()

    def stop(self) -> None:
        """Stop the background thread (queued work stays queued)."""
        with self._cond:
            thread, self._thread = self._thread, None
            self._stopping = True
            self._cond.notify_all()
        if thread is not None:
            thread.join(timeout=10)

    def settle(self, timeout: float = 5.0) -> None:
        """Return once no work is queued or running and no timer is due within ``timeout``.

        Raises:
            TimeoutError: work was still going on when the timeout passed (threaded mode).
        """
        deadline = self.clock.monotonic() + timeout
        if self._thread is None:
            self._settle_inline(deadline)
            return
        with self._cond:
            while not self._idle_until(deadline):
                remaining = deadline - self.clock.monotonic()
                if remaining <= 0:
                    raise TimeoutError("the simulated cluster's controllers did not settle")
                self._cond.wait(timeout=min(remaining, 0.05))

    def _idle_until(self, deadline: float) -> bool:
        return (
            not self._queue
            and not self._busy
            and (not self._timers or self._timers[0][0] > deadline)
        )

    def _settle_inline(self, deadline: float) -> None:
        while True:
            self._move_due_timers()
            if self._run_queued():
                continue
            with self._cond:
                if not self._timers or self._timers[0][0] > deadline:
                    return
                wait = self._timers[0][0] - self.clock.monotonic()
            self.clock.sleep(wait)

    def _move_due_timers(self) -> None:
        with self._cond:
            now = self.clock.monotonic()
            while self._timers and self._timers[0][0] <= now:
                _, _, handler, key = heapq.heappop(self._timers)
                if (handler, key) not in self._queued:
                    self._queued.add((handler, key))
                    self._queue.append((handler, key))

    def _run_queued(self) -> bool:
        ran = False
        while True:
            with self._cond:
                if not self._queue:
                    return ran
                handler, key = self._queue.popleft()
                self._queued.discard((handler, key))
                self._busy = True
            try:
                self._run(handler, key)
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()
            ran = True

    def _run(self, handler: Handler, key: str) -> None:
        try:
            handler(key)
        except ApiError as error:
            # A race with another writer (conflict, object gone): try again shortly, as
            # Kubernetes controllers requeue with back-off.
            _log.debug("reconcile %s failed (%s); retrying", key, error.message)
            self.schedule(0.05, handler, key)

    def _loop(self) -> None:
        while True:
            with self._cond:
                if self._stopping:
                    return
            self._move_due_timers()
            try:
                self._run_queued()
            except Exception:  # noqa: BLE001  # logged below; the server's controllers keep running
                _log.exception("a simulated-cluster controller failed")
            with self._cond:
                if self._stopping or self._queue:
                    continue
                wait = self._timers[0][0] - self.clock.monotonic() if self._timers else 1.0
                if wait > 0:
                    self._cond.wait(timeout=min(wait, 1.0))
