"""A lean webhook sender for load: HTTP/1.1 over kept-alive sockets, as cheap as Alertmanager.

httpx spends about a millisecond of Python per request; at 200 requests per second that is a
fifth of a core in the benchmark's own process, on a machine where the engine, its Prefect
server and the simulated cluster share two cores, and every stall of the benchmark's event loop
is counted as the engine's latency. Alertmanager (Go) sends a webhook for a fraction of that.
This sender writes one pre-built request and reads one answer (status line, headers,
``Content-Length`` body), on a pool of connections it keeps alive, and nothing more: enough for
a receiver we wrote, not a general client.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from dataclasses import dataclass
from types import TracebackType
from typing import Self
from urllib.parse import urlsplit

_HEADER_END = b"\r\n\r\n"
_Connection = tuple[asyncio.StreamReader, asyncio.StreamWriter]


class _StaleConnectionError(Exception):
    """The connection closed before any byte of the answer (a kept-alive one timed out)."""


class SendError(Exception):
    """The request got no complete answer (connection refused, reset, closed early, timed out).

    Attributes:
        reason: What went wrong, in a word (the underlying error's class name), for tallies.
    """

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Answer:
    """One HTTP answer: its status code and body."""

    status: int
    body: bytes


class WebhookSender:
    """POSTs JSON bodies to one URL over a pool of kept-alive connections.

    Args:
        url: ``http://host:port/path`` (plain HTTP, as a test receiver serves it).
        headers: Extra request headers (e.g. the bearer token).
        timeout: Seconds to wait for one answer.
    """

    def __init__(self, url: str, *, headers: dict[str, str], timeout: float = 30.0) -> None:
        parts = urlsplit(url)
        if parts.scheme != "http" or parts.hostname is None or parts.port is None:
            raise ValueError(f"expected http://host:port/path, got {url!r}")
        self._host, self._port = parts.hostname, parts.port
        lines = [f"POST {parts.path or '/'} HTTP/1.1", f"Host: {parts.netloc}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        lines.append("Content-Type: application/json")
        self._head = ("\r\n".join(lines) + "\r\nContent-Length: ").encode()
        self._timeout = timeout
        self._idle: deque[_Connection] = deque()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def post(self, body: bytes) -> Answer:
        """Send ``body``; a kept-alive connection the receiver closed meanwhile is retried once.

        Raises:
            SendError: no complete answer within the timeout.
        """
        request = self._head + str(len(body)).encode() + _HEADER_END + body
        if self._idle:
            try:
                return await self._exchange(self._idle.popleft(), request)
            except _StaleConnectionError:
                pass  # closed by the receiver while idle (keep-alive timeout): on a new one
        try:
            connection = await asyncio.open_connection(self._host, self._port)
        except OSError as error:
            raise SendError(type(error).__name__, f"cannot connect: {error}") from error
        try:
            return await self._exchange(connection, request)
        except _StaleConnectionError as error:
            raise SendError("ConnectionClosed", "closed before any answer") from error

    async def _exchange(self, connection: _Connection, request: bytes) -> Answer:
        reader, writer = connection
        try:
            answer, keep = await asyncio.wait_for(
                _round_trip(reader, writer, request), self._timeout
            )
        except asyncio.IncompleteReadError as error:
            writer.close()
            if not error.partial:
                raise _StaleConnectionError from error
            raise SendError("IncompleteRead", "the answer was cut short") from error
        except (OSError, TimeoutError) as error:
            writer.close()
            raise SendError(type(error).__name__, str(error) or "no answer in time") from error
        except SendError:
            writer.close()
            raise
        if keep:
            self._idle.append(connection)
        else:
            writer.close()
        return answer

    async def aclose(self) -> None:
        """Close every idle connection."""
        while self._idle:
            _, writer = self._idle.popleft()
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()


async def _round_trip(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
) -> tuple[Answer, bool]:
    writer.write(request)
    head = await reader.readuntil(_HEADER_END)
    status_line, *header_lines = head[: -len(_HEADER_END)].split(b"\r\n")
    try:
        status = int(status_line.split(b" ", 2)[1])
    except (IndexError, ValueError) as error:
        raise SendError("BadStatusLine", f"{status_line[:80]!r}") from error
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(b":")
        headers[name.strip().lower()] = value.strip()
    length = headers.get(b"content-length")
    if length is None:
        raise SendError("NoContentLength", "the answer has no Content-Length header")
    body = await reader.readexactly(int(length))
    return Answer(status, body), headers.get(b"connection", b"").lower() != b"close"
