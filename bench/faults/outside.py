"""Faults from outside the parts: API outage and resets (a proxy), SQLite busy, Prefect restart."""

from __future__ import annotations

import asyncio
import contextlib
import random
import socket
import sqlite3
import struct
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from engine.prefect_server import PrefectServer

_CHUNK = 65536


@dataclass
class ApiProxy:
    """A TCP proxy on 127.0.0.1 in front of the simulated API server (TLS passes through).

    The engine's kubeconfig names the proxy, so the bench can do to the engine's API
    connections what the simulated cluster's fault API cannot: take the API away for a while
    (the listener closes: connections are refused; open ones are reset) or reset a fraction of
    new connections.

    Attributes:
        upstream_port: The simulated API server's HTTPS port.
        reset_rate: Fraction (0..1) of new connections reset at once.
    """

    upstream_port: int
    reset_rate: float = 0.0
    port: int = field(default=0, init=False)
    resets: int = field(default=0, init=False)
    _loop: asyncio.AbstractEventLoop | None = field(default=None, init=False, repr=False)
    _server: asyncio.Server | None = field(default=None, init=False, repr=False)
    _open: set[asyncio.StreamWriter] = field(default_factory=set, init=False, repr=False)
    _thread: threading.Thread | None = field(default=None, init=False, repr=False)
    _rng: random.Random = field(default_factory=lambda: random.Random(7), init=False)

    @property
    def url(self) -> str:
        """The proxy's HTTPS URL, for the engine's kubeconfig."""
        return f"https://127.0.0.1:{self.port}"

    def __enter__(self) -> ApiProxy:
        ready = threading.Event()
        self._thread = threading.Thread(
            target=self._serve, args=(ready,), name="api-proxy", daemon=True
        )
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("the API proxy did not start")
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._loop is not None:
            closing = asyncio.run_coroutine_threadsafe(self._close(), self._loop)
            with contextlib.suppress(TimeoutError):
                closing.result(timeout=10)
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(timeout=10)

    def outage(self, seconds: float) -> None:
        """Refuse every connection and reset the open ones for ``seconds``; returns at once."""
        assert self._loop is not None
        asyncio.run_coroutine_threadsafe(self._outage(seconds), self._loop)

    def _serve(self, ready: threading.Event) -> None:
        self._loop = asyncio.new_event_loop()
        self._loop.run_until_complete(self._listen())
        ready.set()
        try:
            self._loop.run_forever()
        finally:
            self._loop.close()

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(
            self._handle, "127.0.0.1", self.port, reuse_address=True
        )
        self.port = self._server.sockets[0].getsockname()[1]

    async def _close(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        for writer in list(self._open):
            _reset(writer)
        others = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
        for task in others:
            task.cancel()
        await asyncio.gather(*others, return_exceptions=True)

    async def _outage(self, seconds: float) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        for writer in list(self._open):
            _reset(writer)
        await asyncio.sleep(seconds)
        await self._listen()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self._rng.random() < self.reset_rate:
            self.resets += 1
            _reset(writer)
            return
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        except OSError:
            _reset(writer)
            return
        self._open.update((writer, up_writer))
        try:
            await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))
        finally:
            self._open.difference_update((writer, up_writer))
            for side in (writer, up_writer):
                side.close()


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(OSError, asyncio.IncompleteReadError):
        while data := await reader.read(_CHUNK):
            writer.write(data)
            await writer.drain()
    with contextlib.suppress(OSError):
        if writer.can_write_eof():
            writer.write_eof()


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close with a TCP RST (SO_LINGER 0), as a dying load balancer or server does."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


def hold_write_lock(database: Path, seconds: float) -> threading.Thread:
    """Hold a write transaction on a SQLite file for ``seconds`` (another writer, busy).

    Returns once the lock is held; the returned thread ends when it is released.

    Raises:
        RuntimeError: the lock could not be taken within 30 s.
    """
    held = threading.Event()

    def hold() -> None:
        connection = sqlite3.connect(database, timeout=30, isolation_level=None)
        try:
            connection.execute("BEGIN IMMEDIATE")
            held.set()
            time.sleep(seconds)
            connection.execute("ROLLBACK")
        finally:
            connection.close()

    thread = threading.Thread(target=hold, name="sqlite-writer", daemon=True)
    thread.start()
    if not held.wait(30):
        raise RuntimeError(f"could not take the write lock of {database}")
    return thread


def restart_prefect(prefect: PrefectServer, *, down_seconds: float = 0.0) -> threading.Thread:
    """Stop the Prefect server, wait ``down_seconds``, start it again (same port and database),
    on a thread of its own; returns the thread at once."""

    def restart() -> None:
        prefect.stop()
        time.sleep(down_seconds)
        prefect.start()

    thread = threading.Thread(target=restart, name="prefect-restart", daemon=True)
    thread.start()
    return thread
