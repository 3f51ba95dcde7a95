"""Time sources for the simulated cluster: the real clock, and a fake one tests advance at will."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """What the controllers read time from and wait with."""

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back (timers are due on it)."""

    def now(self) -> datetime:
        """The current wall-clock time in UTC (written into objects)."""

    def sleep(self, seconds: float) -> None:
        """Let ``seconds`` pass."""


class SystemClock:
    """The real clock."""

    def monotonic(self) -> float:
        """Seconds from `time.monotonic`."""
        return time.monotonic()

    def now(self) -> datetime:
        """The current UTC time."""
        return datetime.now(UTC)

    def sleep(self, seconds: float) -> None:
        """Block the calling thread."""
        if seconds > 0:
            time.sleep(seconds)


class FakeClock:
    """A clock that only moves when told to; `sleep` advances it instantly.

    Args:
        start: The wall-clock time at monotonic zero.
    """

    def __init__(self, start: datetime | None = None) -> None:
        self._start = start or datetime(2024, 11, 25, 18, 0, 0, tzinfo=UTC)
        self._elapsed = 0.0
        self._lock = threading.Lock()

    def monotonic(self) -> float:
        """Seconds advanced so far."""
        return self._elapsed

    def now(self) -> datetime:
        """The start time plus the seconds advanced."""
        return self._start + timedelta(seconds=self._elapsed)

    def sleep(self, seconds: float) -> None:
        """Advance the clock without blocking."""
        self.advance(seconds)

    def advance(self, seconds: float) -> None:
        """Move time forward by ``seconds``."""
        with self._lock:
            self._elapsed += max(0.0, seconds)
