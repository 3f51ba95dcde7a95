"""The one retry policy for API calls: transient errors only, jittered backoff, bounded."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, Field
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    stop_before_delay,
    wait_random_exponential,
)
from tenacity.wait import wait_base

from integrations.kubernetes.errors import TransientKubeError

T = TypeVar("T")

_log = logging.getLogger(__name__)


class RetryPolicy(BaseModel):
    """How hard to retry a request that failed transiently (429, 5xx, timeouts, resets).

    Attributes:
        max_attempts: Attempts in all, the first included.
        max_total_seconds: No attempt starts after this long since the first one.
        initial_backoff_seconds: Upper bound of the first jittered wait.
        max_backoff_seconds: Upper bound of any jittered wait (a server's ``Retry-After`` may
            ask for longer, and is honoured while the total budget allows).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_attempts: int = Field(default=5, ge=1)
    max_total_seconds: float = Field(default=30.0, gt=0)
    initial_backoff_seconds: float = Field(default=0.2, gt=0)
    max_backoff_seconds: float = Field(default=5.0, gt=0)


class wait_honouring_retry_after(wait_base):  # noqa: N801 - tenacity names its strategies in lower case
    """Wait what the server asked for (``Retry-After``), else full-jitter exponential backoff."""

    def __init__(self, policy: RetryPolicy) -> None:
        self._backoff = wait_random_exponential(
            multiplier=policy.initial_backoff_seconds, max=policy.max_backoff_seconds
        )

    def __call__(self, retry_state: RetryCallState) -> float:
        """Seconds to sleep before the next attempt."""
        outcome = retry_state.outcome
        error = outcome.exception() if outcome is not None else None
        if isinstance(error, TransientKubeError) and error.retry_after is not None:
            return error.retry_after
        return float(self._backoff(retry_state))


def _log_retry(retry_state: RetryCallState) -> None:
    outcome = retry_state.outcome
    error = outcome.exception() if outcome is not None else None
    sleep = retry_state.next_action.sleep if retry_state.next_action else 0.0
    _log.warning(
        "Kubernetes API call failed transiently (attempt %d), retrying in %.2fs: %s",
        retry_state.attempt_number,
        sleep,
        error,
    )


def call_with_retries(
    operation: Callable[[], T],
    policy: RetryPolicy,
    *,
    sleep: Callable[[float], None] = time.sleep,
    safe_to_repeat: Callable[[TransientKubeError], bool] = lambda _: True,
) -> T:
    """Run `operation`, retrying it on `TransientKubeError` as `policy` allows.

    Any other error, and the last transient one once the policy gives up, propagates.

    Args:
        operation: The call to make; it must raise the adapter's own errors.
        policy: Attempts, total time and backoff bounds.
        sleep: How to wait between attempts (tests pass a recorder).
        safe_to_repeat: Whether a transient failure left nothing done that a repeat would do
            twice (every failure, for requests the API server makes idempotent).
    """
    retrying = Retrying(
        retry=retry_if_exception(
            lambda error: isinstance(error, TransientKubeError) and safe_to_repeat(error)
        ),
        stop=stop_after_attempt(policy.max_attempts) | stop_before_delay(policy.max_total_seconds),
        wait=wait_honouring_retry_after(policy),
        sleep=sleep,
        before_sleep=_log_retry,
        reraise=True,
    )
    return retrying(operation)
