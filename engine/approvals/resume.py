"""Resuming a waiting run with an answer, as the engine does it (Slack presses, the sweeper).

Prefect answers a resume with HTTP 200/201 whatever became of it; what happened is in the
result's ``status`` and ``reason``, so every caller reads those (`classify`). Two refusals are
passing, and retried here within a bound: the run input schema not saved yet (Prefect marks a
run Suspended a moment before it saves the form's schema, about a second), and 503 (Prefect
restarting or overloaded, beyond its client's own retries).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from uuid import UUID

import httpx
from prefect.client.orchestration import PrefectClient
from prefect.client.schemas import OrchestrationResult
from prefect.client.schemas.responses import SetStateStatus

_CONFLICT = 409
_UNAVAILABLE = 503
SCHEMA_NOT_FOUND = "schema not found"

#: Waits before each new try while the run's input schema is not saved yet (about 2 s in all).
SCHEMA_WAITS = (0.1,) * 20
#: Waits before each new try after a 503.
UNAVAILABLE_WAITS = (0.5, 1.0, 2.0)


class ResumeOutcome(StrEnum):
    """What became of a resume."""

    ACCEPTED = "accepted"
    """The run took the answer and is scheduled to go on."""
    NOT_PAUSED = "not_paused"
    """The run no longer waits (another answer came first, or it ended)."""
    REFUSED = "refused"
    """Prefect refused the answer (it does not fit the waiting form: e.g. another request)."""
    NOT_READY = "not_ready"
    """The run has only just suspended; its form is not saved yet."""
    UNAVAILABLE = "unavailable"
    """Prefect answered 503."""


@dataclass(frozen=True, slots=True)
class Resumed:
    """A resume's outcome, and Prefect's reason."""

    outcome: ResumeOutcome
    reason: str = ""


def classify(result: OrchestrationResult[Any]) -> Resumed:
    """What a resume's result means, from its status and reason (not its HTTP code)."""
    reason = str(getattr(result.details, "reason", "") or "")
    if SCHEMA_NOT_FOUND in reason.lower():
        return Resumed(ResumeOutcome.NOT_READY, reason)
    if result.status is SetStateStatus.ACCEPT:
        return Resumed(ResumeOutcome.ACCEPTED, reason)
    if result.status is SetStateStatus.ABORT:
        return Resumed(ResumeOutcome.NOT_PAUSED, reason)
    return Resumed(ResumeOutcome.REFUSED, reason or f"Prefect answered {result.status.value}")


async def resume_run(
    client: PrefectClient,
    flow_run_id: UUID,
    run_input: dict[str, Any],
    *,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> Resumed:
    """Resume the run with ``run_input``, retrying the passing refusals within their bounds.

    Raises:
        httpx.HTTPError: Prefect could not be reached, or answered an error other than 409/503.
    """
    schema_waits, unavailable_waits = list(SCHEMA_WAITS), list(UNAVAILABLE_WAITS)
    while True:
        try:
            resumed = classify(await client.resume_flow_run(flow_run_id, run_input=run_input))
        except httpx.HTTPStatusError as error:
            status = error.response.status_code
            if status == _CONFLICT:
                # Two answers at once: the other one's input was stored first.
                return Resumed(ResumeOutcome.NOT_PAUSED, "answered at the same moment")
            if status != _UNAVAILABLE:
                raise
            resumed = Resumed(ResumeOutcome.UNAVAILABLE, "Prefect answered 503")
        waits = {
            ResumeOutcome.NOT_READY: schema_waits,
            ResumeOutcome.UNAVAILABLE: unavailable_waits,
        }.get(resumed.outcome)
        if not waits:
            return resumed
        await sleep(waits.pop(0))
