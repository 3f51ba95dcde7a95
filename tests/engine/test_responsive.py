"""Settled for serving: what start-up built is out of the collector's full passes, turns short."""

from __future__ import annotations

import gc
import sys
from collections.abc import Iterator

import pytest

from engine.responsive import SWITCH_INTERVAL_SECONDS, settle_for_serving


@pytest.fixture
def unfrozen_afterwards() -> Iterator[None]:
    """This test process's objects go back to the collector, its threads to their turns."""
    interval = sys.getswitchinterval()
    yield
    gc.unfreeze()
    sys.setswitchinterval(interval)


def walked(thing: object) -> bool:
    """Whether the collector's passes walk `thing` (frozen objects are in none of them)."""
    return any(other is thing for other in gc.get_objects())


def test_what_lives_at_start_up_is_frozen_and_what_comes_later_is_walked_as_before(
    unfrozen_afterwards: None,
) -> None:
    built_at_start: list[object] = []

    frozen = settle_for_serving()
    built_later: list[object] = []

    assert frozen > 0
    assert not walked(built_at_start)
    assert walked(built_later)


def test_a_busy_flow_thread_gives_the_event_loop_its_turn_within_a_millisecond(
    unfrozen_afterwards: None,
) -> None:
    settle_for_serving()

    assert sys.getswitchinterval() == SWITCH_INTERVAL_SECONDS == 0.001
