"""The embedded Prefect server's entry point: its SQLite write transactions wait for the lock.

Prefect opens its SQLite transactions ``BEGIN DEFERRED``: a transaction reads first and asks for
the write lock at its first write. When another connection writes meanwhile, SQLite cannot let
it wait (its snapshot is stale, or waiting could deadlock), so the write fails at once with
"database is locked" and ``busy_timeout`` (60 s in Prefect) is never consulted; Prefect answers
503. Under an alert storm with runs executing, that was 469 of 500 run creations refused at 50/s
(``bench.webhook_ack --engine full``) and the approval's resume refused up to three times.

``BEGIN IMMEDIATE`` takes the write lock when the transaction begins, before it has read
anything, so a second writer waits its turn instead. SQLite has one writer either way: this
changes who waits and who fails, not how much is written. Prefect's own migrations begin this
way (``prefect.server.database._migrations.env``); reads outside transactions are untouched.

Only the server this engine starts on SQLite runs through here (``python -m
engine.prefect_sqlite server start ...``); a Prefect server of your own (``PREFECT_API_URL``)
is not changed, and on PostgreSQL the configuration patched here is not used.
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager

from prefect.server.database import configurations
from sqlalchemy.ext.asyncio import AsyncSession, AsyncSessionTransaction

#: What the server's log says when this Prefect no longer has what is replaced here.
NOT_INSTALLED = (
    "service-runbooks: Prefect's SQLite transactions were left as Prefect opens them (its "
    "transaction handling changed); concurrent writes may be refused 'database is locked' (503)"
)


@asynccontextmanager
async def _begin_immediate(
    self: configurations.AioSqliteConfiguration,
    session: AsyncSession,
    with_for_update: bool = False,
) -> AsyncGenerator[AsyncSessionTransaction, None]:
    # Every transaction Prefect opens may write, whatever with_for_update says.
    token = configurations.SQLITE_BEGIN_MODE.set("IMMEDIATE")
    try:
        async with session.begin() as transaction:
            yield transaction
    finally:
        configurations.SQLITE_BEGIN_MODE.reset(token)


def begin_transactions_immediately() -> bool:
    """Make the SQLite configuration begin every transaction ``IMMEDIATE``.

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
    sqlite.begin_transaction = _begin_immediate  # type: ignore[method-assign]
    return True


def main() -> None:
    """Run Prefect's command line (``server start ...``) with immediate SQLite transactions."""
    if not begin_transactions_immediately():
        print(NOT_INSTALLED, file=sys.stderr, flush=True)
    from prefect.cli import app

    app()


if __name__ == "__main__":
    main()
