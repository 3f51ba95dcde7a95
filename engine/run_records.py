"""The run logs and events Prefect buffers in this process, sent before it stops."""

from __future__ import annotations

from prefect.events.worker import EventsWorker
from prefect.logging.handlers import APILogWorker


def flush_run_records(timeout: float = 10.0) -> None:
    """Send the run logs and events Prefect still buffers in this process (before stopping).

    Call it from a thread without an event loop: Prefect's drain then blocks until done.
    """
    APILogWorker.drain_all(timeout=timeout)
    EventsWorker.drain_all(timeout=timeout)
