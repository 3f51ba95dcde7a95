"""Group commit: callers hand in one item each; everything queued meanwhile goes in one call.

Prefect on SQLite takes one writer at a time, and every create pays a server round trip and a
commit. Sending the items that arrived while the previous call was in flight as one batch keeps a
single write in flight, so our own creates never contend for SQLite's lock, and turns N commits
into one. Under light load a batch is one item and adds no wait; under a storm it grows by itself.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")


@dataclass
class _Waiting(Generic[Item, Result]):
    item: Item
    future: asyncio.Future[Result]


class Batcher(Generic[Item, Result]):
    """Hands queued items to ``process`` in batches, one batch in flight at a time.

    The worker task starts on first use, in the caller's event loop.

    Args:
        process: Handles one batch; returns one result or exception per item, in order. If it
            raises, every item of the batch gets that exception.
        max_batch: Most items per call.
    """

    def __init__(
        self,
        process: Callable[[Sequence[Item]], Awaitable[Sequence[Result | BaseException]]],
        *,
        max_batch: int = 100,
    ) -> None:
        if max_batch < 1:
            raise ValueError(f"max_batch must be at least 1, got {max_batch}")
        self._process = process
        self._max_batch = max_batch
        self._queue: deque[_Waiting[Item, Result]] = deque()
        self._wakeup: asyncio.Event | None = None
        self._worker: asyncio.Task[None] | None = None
        self.batches = 0

    async def submit(self, item: Item) -> Result:
        """Queue ``item`` and wait for its result (raises what ``process`` gave it).

        A caller that is cancelled while its item still waits in the queue withdraws it.
        """
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Result] = loop.create_future()
        self._queue.append(_Waiting(item, future))
        self._ensure_worker().set()
        return await future

    async def aclose(self) -> None:
        """Stop the worker; items still queued get ``asyncio.CancelledError``."""
        worker, self._worker = self._worker, None
        if worker is not None:
            worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await worker
        while self._queue:
            self._queue.popleft().future.cancel()

    def _ensure_worker(self) -> asyncio.Event:
        if self._worker is None or self._worker.done():
            self._wakeup = asyncio.Event()
            self._worker = asyncio.get_running_loop().create_task(
                self._work(self._wakeup), name="batcher"
            )
        assert self._wakeup is not None
        return self._wakeup

    async def _work(self, wakeup: asyncio.Event) -> None:
        while True:
            await wakeup.wait()
            wakeup.clear()
            while batch := self._take():
                await self._run(batch)

    def _take(self) -> list[_Waiting[Item, Result]]:
        batch: list[_Waiting[Item, Result]] = []
        while self._queue and len(batch) < self._max_batch:
            waiting = self._queue.popleft()
            if not waiting.future.done():  # its caller gave up (timeout): nothing to send
                batch.append(waiting)
        return batch

    async def _run(self, batch: list[_Waiting[Item, Result]]) -> None:
        self.batches += 1
        try:
            results = await self._process([waiting.item for waiting in batch])
        except asyncio.CancelledError:
            for waiting in batch:
                waiting.future.cancel()
            raise
        except Exception as error:  # noqa: BLE001 - not swallowed: every caller raises it
            results = [error] * len(batch)
        if len(results) != len(batch):
            mismatch = RuntimeError(f"batch of {len(batch)} got {len(results)} results")
            results = [mismatch] * len(batch)
        for waiting, result in zip(batch, results, strict=True):
            if waiting.future.done():
                continue
            if isinstance(result, BaseException):
                waiting.future.set_exception(result)
            else:
                waiting.future.set_result(result)
