"""The batcher: items queued while a batch is in flight go together in the next one."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from engine.dispatch.group_commit import Batcher


class Recorder:
    """A ``process`` that records its batches and waits to be released."""

    def __init__(self) -> None:
        self.batches: list[list[int]] = []
        self.release = asyncio.Event()
        self.release.set()

    async def process(self, items: Sequence[int]) -> list[int | BaseException]:
        self.batches.append(list(items))
        await self.release.wait()
        return [ValueError(f"odd {item}") if item % 2 else item * 10 for item in items]


async def test_a_lone_item_is_sent_at_once_and_gets_its_result() -> None:
    recorder = Recorder()
    batcher = Batcher(recorder.process)

    assert await batcher.submit(4) == 40
    assert recorder.batches == [[4]]
    await batcher.aclose()


async def test_items_arriving_during_a_batch_go_together_in_the_next() -> None:
    recorder = Recorder()
    recorder.release.clear()
    batcher = Batcher(recorder.process)
    first = asyncio.create_task(batcher.submit(0))
    await asyncio.sleep(0.01)
    rest = [asyncio.create_task(batcher.submit(n)) for n in (2, 4, 6)]
    await asyncio.sleep(0.01)

    recorder.release.set()

    assert await first == 0
    assert await asyncio.gather(*rest) == [20, 40, 60]
    assert recorder.batches == [[0], [2, 4, 6]]
    assert batcher.batches == 2
    await batcher.aclose()


async def test_each_caller_gets_its_own_error_and_the_others_their_results() -> None:
    batcher = Batcher(Recorder().process)

    results = await asyncio.gather(*(batcher.submit(n) for n in (2, 3)), return_exceptions=True)

    assert results[0] == 20
    assert isinstance(results[1], ValueError)
    assert str(results[1]) == "odd 3"
    await batcher.aclose()


async def test_a_failing_batch_fails_every_caller_in_it() -> None:
    async def broken(items: Sequence[int]) -> list[int | BaseException]:
        raise ConnectionError("run store down")

    batcher = Batcher(broken)

    results = await asyncio.gather(*(batcher.submit(n) for n in range(3)), return_exceptions=True)

    assert all(isinstance(result, ConnectionError) for result in results)
    with pytest.raises(ConnectionError):  # the worker survived to serve the next batch
        await batcher.submit(1)
    await batcher.aclose()


async def test_batches_are_cut_at_the_maximum_size() -> None:
    recorder = Recorder()
    recorder.release.clear()
    batcher = Batcher(recorder.process, max_batch=2)
    tasks = [asyncio.create_task(batcher.submit(n * 2)) for n in range(5)]
    await asyncio.sleep(0.01)

    recorder.release.set()
    await asyncio.gather(*tasks)

    assert [len(batch) for batch in recorder.batches] == [2, 2, 1]
    await batcher.aclose()


async def test_a_caller_that_gave_up_before_its_batch_left_is_not_sent() -> None:
    recorder = Recorder()
    recorder.release.clear()
    batcher = Batcher(recorder.process)
    first = asyncio.create_task(batcher.submit(0))
    await asyncio.sleep(0.01)
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(batcher.submit(2), timeout=0.01)

    recorder.release.set()

    assert await first == 0
    assert recorder.batches == [[0]]
    await batcher.aclose()


def test_a_batch_size_below_one_is_refused() -> None:
    async def process(items: Sequence[int]) -> list[int | BaseException]:
        return list(items)

    with pytest.raises(ValueError, match="max_batch must be at least 1"):
        Batcher(process, max_batch=0)
