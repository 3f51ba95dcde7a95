"""Resuming a run as the engine does: the result's status read, passing refusals retried."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest
from prefect.client.schemas import OrchestrationResult
from prefect.client.schemas.responses import (
    SetStateStatus,
    StateAbortDetails,
    StateAcceptDetails,
    StateRejectDetails,
)

from engine.approvals.resume import Resumed, ResumeOutcome, classify, resume_run

ACCEPT = OrchestrationResult[Any](
    state=None, status=SetStateStatus.ACCEPT, details=StateAcceptDetails()
)
NOT_PAUSED = OrchestrationResult[Any](
    state=None,
    status=SetStateStatus.ABORT,
    details=StateAbortDetails(reason="Cannot resume a flow run that is not paused."),
)
#: Prefect 3.9 answers REJECT; the status has been ABORT too: the reason tells.
SCHEMA_NOT_SAVED = [
    OrchestrationResult[Any](
        state=None, status=status, details=StateAbortDetails(reason="Run input schema not found.")
    )
    for status in (SetStateStatus.REJECT, SetStateStatus.ABORT)
]
OTHER_REQUEST = OrchestrationResult[Any](
    state=None,
    status=SetStateStatus.REJECT,
    details=StateRejectDetails(
        reason="Reason: Validation failed for field 'request_id'. Failure reason: ..."
    ),
)


def unavailable() -> httpx.HTTPStatusError:
    request = httpx.Request("POST", "http://prefect/api/flow_runs/x/resume")
    return httpx.HTTPStatusError(
        "503", request=request, response=httpx.Response(503, request=request)
    )


def conflict() -> httpx.HTTPStatusError:
    request = httpx.Request("POST", "http://prefect/api/flow_runs/x/resume")
    return httpx.HTTPStatusError(
        "409", request=request, response=httpx.Response(409, request=request)
    )


@pytest.mark.parametrize(
    ("result", "outcome"),
    [
        (ACCEPT, ResumeOutcome.ACCEPTED),
        (NOT_PAUSED, ResumeOutcome.NOT_PAUSED),
        (SCHEMA_NOT_SAVED[0], ResumeOutcome.NOT_READY),
        (SCHEMA_NOT_SAVED[1], ResumeOutcome.NOT_READY),
        (OTHER_REQUEST, ResumeOutcome.REFUSED),
    ],
    ids=["accepted", "not-paused", "schema-not-saved-reject", "schema-not-saved-abort", "refused"],
)
def test_a_resume_is_read_by_its_status_and_reason(
    result: OrchestrationResult[Any], outcome: ResumeOutcome
) -> None:
    assert classify(result).outcome is outcome


class ScriptedPrefect:
    """A Prefect client whose resume answers as scripted, one answer per call."""

    def __init__(self, *answers: OrchestrationResult[Any] | httpx.HTTPStatusError) -> None:
        self.answers = list(answers)
        self.calls = 0

    async def resume_flow_run(
        self, flow_run_id: UUID, run_input: dict[str, Any] | None = None
    ) -> OrchestrationResult[Any]:
        self.calls += 1
        answer = self.answers.pop(0)
        if isinstance(answer, httpx.HTTPStatusError):
            raise answer
        return answer


async def resume(prefect: ScriptedPrefect) -> tuple[Resumed, list[float]]:
    waited: list[float] = []

    async def sleep(seconds: float) -> None:
        waited.append(seconds)

    # A scripted stand-in for the Prefect client: only the calls resume_run makes.
    resumed = await resume_run(prefect, uuid4(), {"by": "x"}, sleep=sleep)  # type: ignore[arg-type]  # stand-in
    return resumed, waited


async def test_a_resume_right_after_the_suspension_is_tried_again_until_the_form_is_saved() -> None:
    prefect = ScriptedPrefect(SCHEMA_NOT_SAVED[0], SCHEMA_NOT_SAVED[1], ACCEPT)

    resumed, waited = await resume(prefect)

    assert resumed.outcome is ResumeOutcome.ACCEPTED
    assert waited == [0.1, 0.1]


async def test_a_form_never_saved_is_given_up_on_after_about_two_seconds() -> None:
    prefect = ScriptedPrefect(*[SCHEMA_NOT_SAVED[0]] * 30)

    resumed, waited = await resume(prefect)

    assert resumed.outcome is ResumeOutcome.NOT_READY
    assert sum(waited) == pytest.approx(2.0)


async def test_prefect_answering_503_is_tried_again_a_few_times() -> None:
    prefect = ScriptedPrefect(unavailable(), unavailable(), ACCEPT)

    resumed, waited = await resume(prefect)

    assert resumed.outcome is ResumeOutcome.ACCEPTED
    assert waited == [0.5, 1.0]


async def test_prefect_answering_503_for_long_is_given_up_on() -> None:
    prefect = ScriptedPrefect(*[unavailable()] * 5)

    resumed, _ = await resume(prefect)

    assert resumed.outcome is ResumeOutcome.UNAVAILABLE
    assert prefect.calls == 4


async def test_two_answers_at_once_leave_the_second_not_paused() -> None:
    resumed, waited = await resume(ScriptedPrefect(conflict()))

    assert resumed.outcome is ResumeOutcome.NOT_PAUSED
    assert waited == []
