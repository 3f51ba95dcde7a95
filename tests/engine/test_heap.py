"""Settling the heap: what start-up built is frozen, out of the collector's full passes."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from engine.heap import settle_heap


@pytest.fixture
def unfrozen_afterwards() -> Iterator[None]:
    """This test process's objects go back to the collector once the test is done."""
    yield
    gc.unfreeze()


def walked(thing: object) -> bool:
    """Whether the collector's passes walk `thing` (frozen objects are in none of them)."""
    return any(other is thing for other in gc.get_objects())


def test_what_lives_at_start_up_is_frozen_and_what_comes_later_is_walked_as_before(
    unfrozen_afterwards: None,
) -> None:
    built_at_start: list[object] = []

    frozen = settle_heap()
    built_later: list[object] = []

    assert frozen > 0
    assert not walked(built_at_start)
    assert walked(built_later)
