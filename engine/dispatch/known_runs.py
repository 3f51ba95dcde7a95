"""Idempotency keys whose runs this process has seen persisted in Prefect, to answer redeliveries.

Alertmanager sends a group's alerts again and again (every group_interval while the group changes,
at repeat_interval, and every few seconds to a receiver it thinks slow), so most alerts a busy
receiver gets already have their run. A key seen persisted stays so: Prefect's runs are not
removed by anything the engine does, so the answer "that run exists" needs no round trip. Entries
expire after ``ttl_seconds``, so a run an operator deleted is created again by a later redelivery,
and the oldest are dropped past ``max_entries`` to bound memory.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from uuid import UUID


class KnownRuns:
    """A bounded, expiring map of idempotency key to the flow run persisted for it.

    Args:
        max_entries: Most keys kept (least recently used dropped first); about 200 bytes each.
        ttl_seconds: How long an entry is trusted.
        clock: Monotonic seconds.
    """

    def __init__(
        self,
        *,
        max_entries: int = 100_000,
        ttl_seconds: float = 3600.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._entries: OrderedDict[str, tuple[UUID, float]] = OrderedDict()
        self._max_entries = max_entries
        self._ttl = ttl_seconds
        self._clock = clock

    def __len__(self) -> int:
        return len(self._entries)

    def find(self, key: str) -> UUID | None:
        """The run persisted for ``key``, if seen within the TTL."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        run_id, seen_at = entry
        if self._clock() - seen_at > self._ttl:
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return run_id

    def remember(self, key: str, run_id: UUID) -> None:
        """Record that ``run_id`` is persisted for ``key``."""
        self._entries[key] = (run_id, self._clock())
        self._entries.move_to_end(key)
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)
