"""Background work in order per run, without one run's slow Slack holding another's."""

from __future__ import annotations

import threading
from collections.abc import Callable

from flows.approval.lanes import Lanes


def test_a_runs_jobs_run_in_the_order_given() -> None:
    lanes, done = Lanes(), list[int]()

    def job(n: int) -> Callable[[], None]:
        return lambda: done.append(n)

    for n in range(20):
        lanes.submit("run-1", job(n))

    assert lanes.wait("run-1", timeout=5)
    assert done == list(range(20))


def test_a_slow_run_does_not_hold_another() -> None:
    lanes, release, done = Lanes(), threading.Event(), list[str]()

    def slow() -> None:
        release.wait(5)

    lanes.submit("slow", slow)
    lanes.submit("quick", lambda: done.append("quick"))

    assert lanes.wait("quick", timeout=5)
    assert done == ["quick"]
    assert not lanes.wait("slow", timeout=0.05)
    release.set()
    assert lanes.wait("slow", timeout=5)


def test_waiting_on_a_run_with_nothing_to_do_returns_at_once() -> None:
    assert Lanes().wait("idle", timeout=0)


def test_a_job_given_after_the_lane_emptied_runs_too() -> None:
    lanes, done = Lanes(), list[int]()
    lanes.submit("run-1", lambda: done.append(1))
    lanes.wait("run-1", timeout=5)
    lanes.submit("run-1", lambda: done.append(2))

    assert lanes.wait("run-1", timeout=5)
    assert done == [1, 2]
