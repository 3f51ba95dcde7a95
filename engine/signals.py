"""SIGINT and SIGTERM stop the engine the same clean way (Kubernetes stops a pod with SIGTERM)."""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator
from types import FrameType

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class StopRequested(BaseException):
    """The operator or the kubelet asked the engine to stop.

    A BaseException, like KeyboardInterrupt, so no ``except Exception`` on the way out can
    swallow it; context managers still unwind (local Prefect server, simulated cluster).
    """

    def __init__(self, signum: int) -> None:
        self.signal = signal.Signals(signum)
        super().__init__(self.signal.name)


@contextlib.contextmanager
def stop_on_signals() -> Iterator[None]:
    """Turn SIGINT and SIGTERM into `StopRequested` for the duration.

    While uvicorn serves it handles both signals itself (a graceful shutdown: the lifespan stops
    the executor, which marks unfinished runs Crashed), then raises the signal again once it
    restored the handlers found here: that second delivery becomes `StopRequested`. Without
    this, SIGTERM's default action would end the process there and then, leaving the local
    Prefect server (in a session of its own) running as an orphan.
    """

    def request_stop(signum: int, frame: FrameType | None) -> None:
        raise StopRequested(signum)

    previous = {sig: signal.signal(sig, request_stop) for sig in STOP_SIGNALS}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
