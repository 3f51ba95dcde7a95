"""Flow runs on daemon threads: awaiting one, and flushing what Prefect buffers for them.

A daemon thread, unlike a pool's, never holds up process exit.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Callable
from typing import TypeVar

from prefect.events.worker import EventsWorker
from prefect.logging.handlers import APILogWorker

T = TypeVar("T")


async def in_daemon_thread(call: Callable[[], T], *, name: str) -> T:
    """Run ``call`` on a new daemon thread named ``name`` and await its result."""
    future: concurrent.futures.Future[T] = concurrent.futures.Future()

    def target() -> None:
        if not future.set_running_or_notify_cancel():
            return
        try:
            future.set_result(call())
        except BaseException as exc:  # noqa: BLE001 - handed to the awaiting task, which re-raises it
            future.set_exception(exc)

    threading.Thread(target=target, name=name, daemon=True).start()
    return await asyncio.wrap_future(future)


def flush_run_records(timeout: float = 10.0) -> None:
    """Send the run logs and events Prefect still buffers in this process (before stopping).

    Call it from a thread without an event loop: Prefect's drain then blocks until done.
    """
    APILogWorker.drain_all(timeout=timeout)
    EventsWorker.drain_all(timeout=timeout)
