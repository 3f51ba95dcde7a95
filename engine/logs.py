"""Structured logs: one JSON object a line, and a gate that logs a repeated rejection once."""

from __future__ import annotations

import logging
import sys
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TextIO

import orjson

# Attributes every LogRecord has; anything else on a record came in through `extra=`.
_STANDARD_ATTRIBUTES = frozenset(
    logging.LogRecord("", 0, "", 0, "", None, None).__dict__.keys() | {"message", "asctime"}
)


class JsonLinesFormatter(logging.Formatter):
    """Format each record as one JSON object: time, level, logger, message and ``extra`` fields."""

    def format(self, record: logging.LogRecord) -> str:
        """Render `record` as a JSON line (without the newline)."""
        document: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD_ATTRIBUTES and not key.startswith("_"):
                document[key] = value
        if record.exc_info:
            document["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(document, default=str).decode()


def configure_json_logging(level: int = logging.INFO, stream: TextIO | None = None) -> None:
    """Send the root logger's records to `stream` (stderr) as JSON lines."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonLinesFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # One line per HTTP request the Prefect client makes would drown what the engine says.
    for chatty in ("httpx", "httpcore"):
        logging.getLogger(chatty).setLevel(max(level, logging.WARNING))


def alert_fields(fingerprint: str, *, flow_run_id: object = None, **more: object) -> dict[str, Any]:
    """The ``extra`` of a log line about an alert: always its fingerprint and flow run id."""
    return {
        "fingerprint": fingerprint,
        "flow_run_id": None if flow_run_id is None else str(flow_run_id),
        **more,
    }


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
