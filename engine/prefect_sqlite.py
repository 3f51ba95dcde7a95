"""The embedded Prefect server's entry point: its SQLite writers take turns, in arrival order.

Prefect opens its SQLite transactions ``BEGIN DEFERRED``: a transaction reads first and asks for
the write lock at its first write. When another connection has written meanwhile, SQLite cannot
let it wait (its snapshot is stale), so the write fails at once, "database is locked", and
Prefect answers 503: under an alert storm with runs executing, 469 of 500 run creations at 50/s
(``bench.webhook_ack --engine full``), and the approval's resume up to three times. A writer
that does get to wait is no better off: SQLite's busy handler polls (sleeping up to 100 ms
between tries) while the others keep taking the lock, so nothing queues fairly, and in an
incident storm one write, the UI's resume and every alert's join behind it, waited 10-19 s.

Here every transaction Prefect opens begins ``BEGIN IMMEDIATE`` (it holds the write lock from
its start, so it never fails half-way) and first waits for its turn on an in-process queue, so
the server's writers (API requests and its own services alike: events, task-run states, logs)
take the lock one after the other in the order they asked. SQLite has one writer either way:
this changes who waits and for how long, not how much is written. Prefect's own migrations
begin this way (``prefect.server.database._migrations.env``); reads outside transactions are
untouched. Immediate transactions alone, without the queue, were tried and withdrawn: the
storm's owner waited behind polling writers and 134 runs were created instead of 32.

Only the server this engine starts on SQLite runs through here (``python -m
engine.prefect_sqlite server start ...``); a Prefect server of your own (``PREFECT_API_URL``)
is not changed, and on PostgreSQL the configuration patched here is not used.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import sys
import weakref
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import Literal

from prefect.server.database import configurations
from sqlalchemy.ext.asyncio import AsyncSession, AsyncSessionTransaction

#: What the server's log says when this Prefect no longer has what is replaced here.
NOT_INSTALLED = (
    "service-runbooks: Prefect's SQLite transactions were left as Prefect opens them (its "
    "transaction handling changed); concurrent writes may be refused 'database is locked' (503)"
)
TURN_WAIT_SECONDS = 30.0
"""The longest a transaction waits for its turn; past it, it goes on to SQLite's own wait
(``busy_timeout``) rather than wait on a holder that, against the rule, waits on it."""


class WriterTurns:
    """Turns at SQLite's write lock, given in the order they were asked for (per event loop).

    asyncio's lock wakes its waiters first come, first served and lets no newcomer past them.
    A transaction opened inside another one's turn (the same task, or a task it started) does
    not queue again: it would wait for itself.
    """

    def __init__(self, *, wait_seconds: float = TURN_WAIT_SECONDS) -> None:
        """Give turns, waiting at most `wait_seconds` for one."""
        self._wait = wait_seconds
        self._locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            weakref.WeakKeyDictionary()
        )
        self._holding: ContextVar[bool] = ContextVar("runbooks_sqlite_turn", default=False)

    @asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        """Hold the turn for the duration (or go on without it after `wait_seconds`)."""
        if self._holding.get():
            yield
            return
        lock = self._locks.setdefault(asyncio.get_running_loop(), asyncio.Lock())
        acquired = await self._acquire(lock)
        token = self._holding.set(True)
        try:
            yield
        finally:
            self._holding.reset(token)
            if acquired:
                lock.release()

    async def _acquire(self, lock: asyncio.Lock) -> bool:
        # Not asyncio.wait_for: a timeout landing just as the lock is granted would lose the
        # grant and keep the lock taken for good. A cancelled acquire never takes the lock.
        acquiring = asyncio.ensure_future(lock.acquire())
        try:
            await asyncio.wait({acquiring}, timeout=self._wait)
        except asyncio.CancelledError:
            if not acquiring.cancel() and _granted(acquiring):
                lock.release()
            raise
        if acquiring.done():
            return _granted(acquiring)
        acquiring.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await acquiring
        return _granted(acquiring)


def _granted(acquiring: asyncio.Task[Literal[True]]) -> bool:
    return acquiring.done() and not acquiring.cancelled() and acquiring.result()


TURNS = WriterTurns()


@asynccontextmanager
async def _begin_in_turn(
    self: configurations.AioSqliteConfiguration,
    session: AsyncSession,
    with_for_update: bool = False,
) -> AsyncGenerator[AsyncSessionTransaction, None]:
    # Every transaction Prefect opens may write, whatever with_for_update says.
    async with TURNS.turn():
        token = configurations.SQLITE_BEGIN_MODE.set("IMMEDIATE")
        try:
            async with session.begin() as transaction:
                yield transaction
        finally:
            configurations.SQLITE_BEGIN_MODE.reset(token)


def take_turns_to_write() -> bool:
    """Make the SQLite configuration begin every transaction ``IMMEDIATE``, in turn.

    Returns:
        Whether it was done: False when this Prefect does not choose the begin mode the way
        3.x does (a ``SQLITE_BEGIN_MODE`` context variable read by ``begin_sqlite_stmt``).
    """
    sqlite = configurations.AioSqliteConfiguration
    chooses_mode = hasattr(configurations, "SQLITE_BEGIN_MODE") and "SQLITE_BEGIN_MODE" in (
        inspect.getsource(sqlite.begin_sqlite_stmt)
    )
    if not chooses_mode:
        return False
    sqlite.begin_transaction = _begin_in_turn  # type: ignore[method-assign]
    return True


def main() -> None:
    """Run Prefect's command line (``server start ...``) with SQLite writers in turn."""
    if not take_turns_to_write():
        print(NOT_INSTALLED, file=sys.stderr, flush=True)
    from prefect.cli import app

    app()


if __name__ == "__main__":
    main()
