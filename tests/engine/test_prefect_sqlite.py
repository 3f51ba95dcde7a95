"""The embedded Prefect server's SQLite writers take turns, in order, instead of failing."""

from __future__ import annotations

import asyncio
import contextvars
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from prefect.client.orchestration import PrefectClient

from engine.prefect_server import PrefectServer
from engine.prefect_sqlite import NOT_INSTALLED, WriterTurns

HELD_SECONDS = 1.0


@contextmanager
def another_writer(database: Path, *, seconds: float) -> Iterator[None]:
    """Another connection holds SQLite's write lock, then commits a write.

    The commit is what matters: a transaction that read before it can no longer write (its
    snapshot is stale), which SQLite refuses at once, whatever ``busy_timeout`` says.
    """
    held = threading.Event()

    def write() -> None:
        connection = sqlite3.connect(database, timeout=30, isolation_level=None)
        try:
            connection.execute("CREATE TABLE IF NOT EXISTS runbooks_test_writer (at REAL)")
            connection.execute("BEGIN IMMEDIATE")
            connection.execute("INSERT INTO runbooks_test_writer VALUES (?)", (time.time(),))
            held.set()
            time.sleep(seconds)
            connection.execute("COMMIT")
        finally:
            connection.close()

    thread = threading.Thread(target=write, name="another-sqlite-writer", daemon=True)
    thread.start()
    assert held.wait(30), f"could not take the write lock of {database}"
    try:
        yield
    finally:
        thread.join(30)


async def test_keyed_run_creations_wait_for_another_writer_and_are_all_created(
    prefect_server: PrefectServer, prefect_client: PrefectClient
) -> None:
    # The dispatcher's creates carry idempotency keys. Prefect's own BEGIN DEFERRED answered
    # every one of these 503 "database is locked" (20 of 20 when this was written).
    flow_id = await prefect_client.create_flow_from_name("sqlite-writer-test")
    database = next(prefect_server.state_dir.rglob("prefect.db"))
    # Without the client's retries: a refusal must show as the 503 Alertmanager would get.
    async with httpx.AsyncClient(base_url=prefect_server.api_url, timeout=60) as api:
        with another_writer(database, seconds=HELD_SECONDS):
            began = time.monotonic()
            answers = await asyncio.gather(
                *(
                    api.post(
                        "/flow_runs/",
                        json={
                            "flow_id": str(flow_id),
                            "idempotency_key": uuid.uuid4().hex,
                            "state": {"type": "SCHEDULED"},
                        },
                    )
                    for _ in range(10)
                )
            )
        waited = time.monotonic() - began

    assert [answer.status_code for answer in answers] == [201] * 10
    assert waited < HELD_SECONDS + 20  # they waited their turn, not busy_timeout's 60 s


def test_the_server_log_does_not_say_the_transactions_were_left_as_they_were(
    prefect_server: PrefectServer,
) -> None:
    assert NOT_INSTALLED not in prefect_server.log_path.read_text(errors="replace")


async def test_writers_get_their_turns_in_the_order_they_asked() -> None:
    turns = WriterTurns()
    order: list[int] = []
    first_in = asyncio.Event()

    async def write(number: int) -> None:
        async with turns.turn():
            if number == 0:
                first_in.set()
                await asyncio.sleep(0.05)  # the others queue meanwhile
            order.append(number)

    first = asyncio.create_task(write(0))
    await first_in.wait()
    others = []
    for number in range(1, 6):
        others.append(asyncio.create_task(write(number)))
        await asyncio.sleep(0)  # each asks before the next
    await asyncio.gather(first, *others)

    assert order == [0, 1, 2, 3, 4, 5]


async def test_a_transaction_opened_inside_a_turn_does_not_wait_for_itself() -> None:
    turns = WriterTurns(wait_seconds=5)
    async with turns.turn():
        async with asyncio.timeout(1):
            async with turns.turn():
                pass


async def test_a_writer_cancelled_while_it_waits_does_not_keep_the_turn() -> None:
    turns = WriterTurns()
    held = asyncio.Event()
    release = asyncio.Event()

    async def hold() -> None:
        async with turns.turn():
            held.set()
            await release.wait()

    async def wait_in_turn() -> None:
        async with turns.turn():
            pass

    holder = asyncio.create_task(hold())
    await held.wait()
    impatient = asyncio.create_task(wait_in_turn())
    await asyncio.sleep(0.01)
    impatient.cancel()
    release.set()
    await holder

    async with asyncio.timeout(1):
        await wait_in_turn()
    assert impatient.cancelled()


async def test_a_writer_that_waited_too_long_goes_on_to_sqlites_own_wait() -> None:
    turns = WriterTurns(wait_seconds=0.05)
    entered: list[str] = []

    async def late() -> None:
        async with turns.turn():
            entered.append("late")

    async with turns.turn():
        # A writer of its own (not started inside this turn), which the holder, against the
        # rule, waits on: it goes on after its wait instead of both waiting for good.
        await asyncio.wait_for(asyncio.create_task(late(), context=contextvars.Context()), 1)

    assert entered == ["late"]


async def test_a_task_started_inside_a_turn_does_not_queue_behind_it() -> None:
    turns = WriterTurns(wait_seconds=5)
    entered: list[str] = []

    async def started_inside() -> None:
        async with turns.turn():
            entered.append("inside")

    async with turns.turn():
        await asyncio.wait_for(asyncio.create_task(started_inside()), 1)

    assert entered == ["inside"]
