"""The engine's ASGI application: the receiver, with the background services it depends on."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Protocol

from starlette.applications import Starlette
from starlette.routing import BaseRoute, Mount


class BackgroundService(Protocol):
    """Something that runs on the server's event loop for the application's lifetime."""

    async def start(self) -> None:
        """Start working (return once started)."""
        ...

    async def stop(self) -> None:
        """Stop working, leaving nothing that looks alive."""
        ...


def build_engine_app(
    receiver: Starlette,
    *,
    services: Sequence[BackgroundService],
    on_shutdown: Sequence[Callable[[], Awaitable[None]]] = (),
    routes: Sequence[BaseRoute] = (),
) -> Starlette:
    """Wrap the receiver so its services start before the first request and stop after the last.

    Args:
        receiver: The webhook receiver application.
        services: Started in order on startup, stopped in reverse order on shutdown.
        on_shutdown: Coroutines run last on shutdown (closing clients).
        routes: Served before the receiver's (e.g. Slack's interaction callbacks).
    """

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        started: list[BackgroundService] = []
        try:
            for service in services:
                await service.start()
                started.append(service)
            yield
        finally:
            for service in reversed(started):
                await service.stop()
            for close in on_shutdown:
                await close()

    return Starlette(routes=[*routes, Mount("/", app=receiver)], lifespan=lifespan)
