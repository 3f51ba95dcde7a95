"""The retry policy: transient errors only, bounded, honouring Retry-After."""

from __future__ import annotations

import pytest

from integrations.kubernetes.errors import NotFound, TransientKubeError
from integrations.kubernetes.retry import RetryPolicy, call_with_retries


class FlakyCall:
    """A call that fails with the given errors, in order, then returns "done"."""

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "done"


class SleepRecorder:
    def __init__(self) -> None:
        self.sleeps: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.sleeps.append(seconds)


def test_transient_failures_are_retried_until_the_call_succeeds() -> None:
    call = FlakyCall(TransientKubeError("reset"), TransientKubeError("503", status=503))
    sleep = SleepRecorder()

    assert call_with_retries(call, RetryPolicy(max_attempts=5), sleep=sleep) == "done"
    assert call.calls == 3
    assert len(sleep.sleeps) == 2


def test_permanent_failures_are_raised_at_once() -> None:
    call = FlakyCall(NotFound('pods "x" not found', status=404))
    sleep = SleepRecorder()

    with pytest.raises(NotFound):
        call_with_retries(call, RetryPolicy(), sleep=sleep)
    assert call.calls == 1
    assert sleep.sleeps == []


def test_the_last_transient_error_is_raised_when_attempts_run_out() -> None:
    call = FlakyCall(*(TransientKubeError(f"failure {n}") for n in range(1, 10)))

    with pytest.raises(TransientKubeError, match="failure 3"):
        call_with_retries(call, RetryPolicy(max_attempts=3), sleep=SleepRecorder())
    assert call.calls == 3


def test_backoff_is_jittered_and_bounded() -> None:
    policy = RetryPolicy(max_attempts=8, initial_backoff_seconds=0.5, max_backoff_seconds=2.0)
    call = FlakyCall(*(TransientKubeError("busy") for _ in range(7)))
    sleep = SleepRecorder()

    call_with_retries(call, policy, sleep=sleep)

    assert len(sleep.sleeps) == 7
    assert all(0.0 <= seconds <= 2.0 for seconds in sleep.sleeps)
    assert len(set(sleep.sleeps)) > 1


def test_retry_after_from_the_server_sets_the_wait() -> None:
    call = FlakyCall(TransientKubeError("throttled", status=429, retry_after=3.0))
    sleep = SleepRecorder()

    call_with_retries(call, RetryPolicy(max_backoff_seconds=1.0), sleep=sleep)

    assert sleep.sleeps == [3.0]


def test_a_retry_after_beyond_the_time_budget_gives_up_instead_of_waiting() -> None:
    call = FlakyCall(TransientKubeError("throttled", status=429, retry_after=120.0))
    sleep = SleepRecorder()

    with pytest.raises(TransientKubeError, match="throttled"):
        call_with_retries(call, RetryPolicy(max_total_seconds=30.0), sleep=sleep)
    assert call.calls == 1
    assert sleep.sleeps == []


def test_policies_refuse_nonsense_bounds() -> None:
    with pytest.raises(ValueError, match="greater than or equal to 1"):
        RetryPolicy(max_attempts=0)
