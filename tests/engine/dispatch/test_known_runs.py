"""Known runs: keys seen persisted answer redeliveries until they expire or are crowded out."""

from __future__ import annotations

import uuid

from engine.dispatch.known_runs import KnownRuns


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_remembered_key_finds_its_run() -> None:
    known = KnownRuns()
    run_id = uuid.uuid4()

    known.remember("key", run_id)

    assert known.find("key") == run_id
    assert known.find("other") is None


def test_an_entry_older_than_the_ttl_is_forgotten() -> None:
    clock = Clock()
    known = KnownRuns(ttl_seconds=60, clock=clock)
    known.remember("key", uuid.uuid4())

    clock.now += 61

    assert known.find("key") is None
    assert len(known) == 0


def test_past_the_limit_the_least_recently_used_key_goes_first() -> None:
    known = KnownRuns(max_entries=2)
    known.remember("a", uuid.uuid4())
    known.remember("b", uuid.uuid4())
    assert known.find("a") is not None  # "a" is now the most recently used

    known.remember("c", uuid.uuid4())

    assert known.find("b") is None
    assert known.find("a") is not None
    assert known.find("c") is not None
