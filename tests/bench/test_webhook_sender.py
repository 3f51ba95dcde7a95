"""The lean webhook sender: one answer per post, kept-alive connections, clear failures."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

import pytest

from bench.webhook_sender import SendError, WebhookSender

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@asynccontextmanager
async def serving(handler: Handler) -> AsyncIterator[str]:
    """A TCP server on 127.0.0.1 running `handler` per connection; yields its webhook URL."""
    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        yield f"http://127.0.0.1:{port}/alertmanager"


async def read_request(reader: asyncio.StreamReader) -> tuple[bytes, bytes]:
    """One request's head and body (by its Content-Length)."""
    head = await reader.readuntil(b"\r\n\r\n")
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    return head, await reader.readexactly(length)


def answer(status: int, body: bytes, *, close: bool = False) -> bytes:
    connection = b"Connection: close\r\n" if close else b""
    return (
        f"HTTP/1.1 {status} X\r\nContent-Length: {len(body)}\r\n".encode()
        + connection
        + b"\r\n"
        + body
    )


async def test_a_post_gets_the_status_and_body_and_sends_the_headers_and_body() -> None:
    seen: list[tuple[bytes, bytes]] = []

    async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen.append(await read_request(reader))
        writer.write(answer(200, b'{"status": "accepted"}'))
        await writer.drain()

    async with serving(echo) as url, WebhookSender(url, headers={"Authorization": "Bearer t"}) as s:
        got = await s.post(b'{"alerts": []}')

    assert (got.status, got.body) == (200, b'{"status": "accepted"}')
    head, body = seen[0]
    assert head.startswith(b"POST /alertmanager HTTP/1.1\r\n")
    assert b"\r\nAuthorization: Bearer t\r\n" in head
    assert b"\r\nContent-Type: application/json\r\n" in head
    assert body == b'{"alerts": []}'


async def test_posts_one_after_another_share_one_kept_alive_connection() -> None:
    connections = 0

    async def keep_alive(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        while True:
            try:
                _, body = await read_request(reader)
            except asyncio.IncompleteReadError:
                return
            writer.write(answer(200, body))
            await writer.drain()

    async with serving(keep_alive) as url, WebhookSender(url, headers={}) as sender:
        bodies = [(await sender.post(f"{n}".encode())).body for n in range(3)]

    assert bodies == [b"0", b"1", b"2"]
    assert connections == 1


@dataclass
class OneAnswerEach:
    """Answers the first request of each connection with `reply`, then hangs up if told to."""

    reply: bytes
    hang_up: bool
    connections: int = 0

    async def __call__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        await read_request(reader)
        writer.write(self.reply)
        await writer.drain()
        if self.hang_up:
            writer.close()


async def test_a_connection_the_receiver_closed_while_idle_is_replaced_once() -> None:
    # Says keep-alive, then closes: as a receiver's keep-alive timeout does.
    server = OneAnswerEach(answer(200, b"ok"), hang_up=True)

    async with serving(server) as url, WebhookSender(url, headers={}) as sender:
        first = await sender.post(b"1")
        await asyncio.sleep(0.05)
        second = await sender.post(b"2")

    assert (first.body, second.body) == (b"ok", b"ok")
    assert server.connections == 2


async def test_an_answer_that_says_close_is_not_kept() -> None:
    server = OneAnswerEach(answer(503, b"busy", close=True), hang_up=False)

    async with serving(server) as url, WebhookSender(url, headers={}) as sender:
        statuses = [(await sender.post(b"x")).status for _ in range(2)]

    assert statuses == [503, 503]
    assert server.connections == 2


async def test_a_receiver_that_closes_without_answering_is_a_send_error() -> None:
    async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.close()

    async with serving(hang_up) as url, WebhookSender(url, headers={}) as sender:
        with pytest.raises(SendError) as raised:
            await sender.post(b"x")

    assert raised.value.reason == "ConnectionClosed"


async def test_no_answer_within_the_timeout_is_a_send_error() -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        await asyncio.sleep(5)

    async with serving(silent) as url, WebhookSender(url, headers={}, timeout=0.1) as sender:
        with pytest.raises(SendError) as raised:
            await sender.post(b"x")

    assert raised.value.reason == "TimeoutError"


async def test_a_closed_port_is_a_send_error_naming_the_refusal() -> None:
    async with serving(lambda reader, writer: asyncio.sleep(0)) as url:
        pass  # closed again: nothing listens on the port now
    async with WebhookSender(url, headers={}) as sender:
        with pytest.raises(SendError) as raised:
            await sender.post(b"x")

    assert raised.value.reason == "ConnectionRefusedError"


def test_only_plain_http_urls_with_a_port_are_taken() -> None:
    with pytest.raises(ValueError, match="expected http://host:port/path"):
        WebhookSender("https://example.test/alertmanager", headers={})
