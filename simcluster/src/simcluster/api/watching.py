"""Watch streams: newline-delimited JSON events, replayed from a resourceVersion, then live."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass
from typing import Any

import orjson
from starlette.types import Message, Receive, Scope, Send

from simcluster.api.listing import ListOptions
from simcluster.errors import ApiError, BadRequestError
from simcluster.resources import ResourceType
from simcluster.store import Store
from simcluster.watch import ChangeEvent, Subscription

_END = None


def event_line(type_: str, raw_object: bytes) -> bytes:
    """One watch event as the apiserver streams it: ``{"type":..,"object":..}`` and a newline."""
    return b'{"type":"' + type_.encode() + b'","object":' + raw_object + b"}\n"


def error_line(error: ApiError) -> bytes:
    """The ERROR event carrying a `Status` (how a watch reports 410 Gone)."""
    return event_line("ERROR", orjson.dumps(error.to_status()))


def parse_since(resource_version: str) -> int | None:
    """The revision to replay after; None for '' and '0' (start from the current state).

    Raises:
        BadRequestError: not a number.
    """
    if resource_version in ("", "0"):
        return None
    try:
        return int(resource_version)
    except ValueError as error:
        raise BadRequestError(
            f'resourceVersion: Invalid value: "{resource_version}": must be a number'
        ) from error


class WatchHub:
    """The live watch streams of one server, so that stopping it can end them all."""

    def __init__(self) -> None:
        """Create a hub with no streams."""
        self._lock = threading.Lock()
        self._streams: set[WatchStream] = set()
        self._closed = False

    def register(self, stream: WatchStream) -> bool:
        """Track a stream; False when the hub is already closed (the stream should end)."""
        with self._lock:
            if self._closed:
                return False
            self._streams.add(stream)
            return True

    def unregister(self, stream: WatchStream) -> None:
        """Stop tracking a stream that ended."""
        with self._lock:
            self._streams.discard(stream)

    def close_all(self) -> None:
        """End every live stream and refuse new ones (thread-safe)."""
        with self._lock:
            self._closed = True
            streams = list(self._streams)
        for stream in streams:
            stream.end()


@dataclass(eq=False)
class WatchStream:
    """An ASGI response that streams the changes of one resource type.

    Attributes:
        store: Where the changes come from.
        resource: The watched type.
        namespace: The namespace watched; None for all.
        options: Selectors and timeout.
        since: Replay the changes after this revision; None to start with the current objects.
        hub: Registry that ends the stream when the server stops.
    """

    store: Store
    resource: ResourceType
    namespace: str | None
    options: ListOptions
    since: int | None
    hub: WatchHub

    def __post_init__(self) -> None:
        self._queue: asyncio.Queue[bytes | None] = asyncio.Queue()
        self._loop = asyncio.get_running_loop()

    def end(self) -> None:
        """Ask the stream to finish (from any thread)."""
        self._post(_END)

    def _post(self, line: bytes | None) -> None:
        try:
            self._loop.call_soon_threadsafe(self._queue.put_nowait, line)
        except RuntimeError:
            # The server's event loop has already closed: nobody is reading this stream.
            return

    def _sink(self, event: ChangeEvent) -> None:
        self._post(event_line(event.type, event.raw))

    def _start(self) -> Subscription | None:
        since = self.since
        labels, fields = self.options.label_selector, self.options.field_selector
        with self.store.lock:
            if since is None:
                current = self.store.list(
                    self.resource,
                    namespace=self.namespace,
                    label_selector=labels,
                    field_selector=fields,
                )
                for raw in current.items:
                    self._queue.put_nowait(event_line("ADDED", raw))
            try:
                return self.store.subscribe(
                    self.resource,
                    self._sink,
                    namespace=self.namespace,
                    label_selector=labels,
                    field_selector=fields,
                    since=since,
                )
            except ApiError as error:
                self._queue.put_nowait(error_line(error))
                self._queue.put_nowait(_END)
                return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Stream events until the timeout, the client leaving or the server stopping."""
        subscription = self._start()
        if not self.hub.register(self):
            self._queue.put_nowait(_END)
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        disconnected = asyncio.ensure_future(_wait_for_disconnect(receive))
        try:
            await self._pump(send, disconnected)
        finally:
            disconnected.cancel()
            self.hub.unregister(self)
            if subscription is not None:
                subscription.cancel()
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def _pump(self, send: Send, disconnected: asyncio.Future[None]) -> None:
        deadline = None
        if self.options.timeout_seconds is not None:
            deadline = self._loop.time() + self.options.timeout_seconds
        while True:
            remaining = None if deadline is None else deadline - self._loop.time()
            if remaining is not None and remaining <= 0:
                return
            getter = asyncio.ensure_future(self._queue.get())
            waiting: set[asyncio.Future[Any]] = {getter, disconnected}
            done, _ = await asyncio.wait(
                waiting, timeout=remaining, return_when=asyncio.FIRST_COMPLETED
            )
            if getter not in done:
                getter.cancel()
                return
            lines = [getter.result()]
            while not self._queue.empty():
                lines.append(self._queue.get_nowait())
            chunk = b"".join(line for line in lines if line is not None)
            if chunk:
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            if _END in lines:
                return


async def _wait_for_disconnect(receive: Receive) -> None:
    message: Message = await receive()
    while message["type"] != "http.disconnect":
        message = await receive()
