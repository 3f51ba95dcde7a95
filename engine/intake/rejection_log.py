"""A gate that logs a repeated rejection of the same notification group once in a while."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable


class RejectionLogGate:
    """Lets the first rejection of a (group, reason) through, then mutes it for a while.

    Alertmanager resends a notification answered 4xx at every ``group_interval``, forever: logging
    each one would bury everything else. Metrics still count every rejection.

    Args:
        clock: Monotonic seconds.
        window_seconds: How long a (group, reason) stays muted after it was logged.
        capacity: How many keys are remembered; the oldest is forgotten first.
    """

    def __init__(
        self,
        clock: Callable[[], float],
        *,
        window_seconds: float = 3600.0,
        capacity: int = 1024,
    ) -> None:
        self._clock = clock
        self._window = window_seconds
        self._capacity = capacity
        self._logged_at: OrderedDict[tuple[str, str], float] = OrderedDict()

    def should_log(self, group: str, reason: str) -> bool:
        """Whether to log this rejection; records it when the answer is yes."""
        key = (group, reason)
        now = self._clock()
        last = self._logged_at.get(key)
        if last is not None and now - last < self._window:
            return False
        self._logged_at[key] = now
        self._logged_at.move_to_end(key)
        while len(self._logged_at) > self._capacity:
            self._logged_at.popitem(last=False)
        return True
