"""What answers a request: Prefect's resume form for humans, and the engine's own answers.

A human answers in the Prefect UI's resume form (`ApprovalForm`: approve, who, why). The engine
answers through the same resume API for a human who pressed a Slack button, or for itself (a
timeout, a withdrawal), with `EngineAnswer`: the form's fields plus the request it answers, the
channel, who exactly and when. The form shows only the human's fields; the engine's pass its
schema because it leaves other fields open, except one: an answer naming a request id must name
this request's, which Prefect checks as it takes the answer, so a stale answer can never answer a
later request of the same run.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar, Literal

from prefect.input import RunInput
from pydantic import BaseModel, ConfigDict, Field

from flows.approval.models import (
    ENGINE_ANSWERER,
    ApprovalAnswer,
    ApprovalRequest,
    Channel,
    Decision,
    clock_time,
    render_request,
)


def _bind_to_request(schema: dict[str, Any], model: type[Any]) -> None:
    request_id = getattr(model, "bound_request_id", "")
    if request_id:
        # A UI answer carries no request id and is not concerned; an engine answer must carry
        # this one. JSON Schema's if/then, which the form leaves out of its fields.
        schema["if"] = {"required": ["request_id"]}
        schema["then"] = {"properties": {"request_id": {"const": request_id}}}


class ApprovalForm(RunInput):
    """What a human answers in Prefect's resume form."""

    # "ignore", not RunInput's "forbid": the engine's answers carry more fields (EngineAnswer).
    model_config = ConfigDict(extra="ignore", json_schema_extra=_bind_to_request)

    bound_request_id: ClassVar[str] = ""

    approve: bool = Field(
        default=False,
        title="Approve",
        description="Tick to approve every step listed above; leave unticked to reject",
    )
    by: str = Field(
        min_length=1, title="Your name", description="Who answers (kept in the incident report)"
    )
    reason: str = Field(default="", title="Reason", description="Why (kept in the report)")


def form_for(request: ApprovalRequest) -> type[ApprovalForm]:
    """The resume form for ``request``: its description above, bound to its request id."""
    bound: type[ApprovalForm] = type(
        "ApprovalForm",
        (ApprovalForm,),
        {"bound_request_id": request.request_id, "__module__": __name__},
    )
    return bound.with_initial_data(description=render_request(request))


class FormAnswer(BaseModel):
    """A submitted resume form, as Prefect keeps it."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    approve: bool = False
    by: str = Field(min_length=1)
    reason: str = ""


class EngineAnswer(BaseModel):
    """An answer the engine submits: a Slack press (for the human who pressed), or its own.

    Attributes:
        request_id: The request answered (checked by Prefect against the waiting one).
        decision: The decision.
        by: Who answered, as the report shows it.
        answerers: The Slack users who answered (two for a four-eyes approval).
        reason: Why.
        channel: ``slack`` for a press, ``engine`` for a timeout or withdrawal.
        answered_at: When the answer was given (the press reached the engine).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    request_id: str = Field(min_length=1)
    decision: Decision
    by: str = Field(min_length=1)
    answerers: tuple[str, ...] = ()
    reason: str = ""
    channel: Literal[Channel.SLACK, Channel.ENGINE]
    answered_at: datetime

    def run_input(self) -> dict[str, Any]:
        """What to resume the run with: this answer, and the form's fields it implies."""
        return {**self.model_dump(mode="json"), "approve": self.decision is Decision.APPROVED}

    @classmethod
    def from_run_input(cls, value: dict[str, Any]) -> EngineAnswer:
        """Read back what `run_input` submitted."""
        return cls.model_validate({k: v for k, v in value.items() if k != "approve"})


Submitted = EngineAnswer | FormAnswer
"""What a run was resumed with."""


def read_submitted(value: dict[str, Any]) -> Submitted:
    """The answer in a run's stored input: the engine's when it names a request, else a form."""
    if "request_id" in value:
        return EngineAnswer.from_run_input(value)
    return FormAnswer.model_validate(value)


def timed_out(request: ApprovalRequest, *, now: datetime) -> EngineAnswer:
    """The engine's answer when nobody answered ``request`` by its deadline."""
    return EngineAnswer(
        request_id=request.request_id,
        decision=Decision.TIMED_OUT,
        by=ENGINE_ANSWERER,
        reason=f"no answer by {clock_time(request.deadline)}: rejected by default",
        channel=Channel.ENGINE,
        answered_at=now,
    )


def withdrawn(request: ApprovalRequest, why: str, *, now: datetime) -> EngineAnswer:
    """The engine's answer taking ``request`` back (e.g. its alert resolved)."""
    return EngineAnswer(
        request_id=request.request_id,
        decision=Decision.WITHDRAWN,
        by=ENGINE_ANSWERER,
        reason=why,
        channel=Channel.ENGINE,
        answered_at=now,
    )


class Vote(BaseModel):
    """The first of two approvals a four-eyes request needs, given in Slack and kept durably.

    Attributes:
        user_id: The Slack user who approved.
        by: Who, as the report shows it.
        at: When.
    """

    model_config = ConfigDict(frozen=True)

    user_id: str
    by: str
    at: datetime


def judge_answer(
    request: ApprovalRequest,
    submitted: Submitted,
    *,
    answered_at: datetime,
    first_vote: Vote | None = None,
) -> ApprovalAnswer:
    """What an answer means for the run: the decision stands, or the rules overrule it.

    The deadline holds at the moment of the answer: a human's answer after it is refused and
    the request counts as timed out. An approval in the Prefect UI cannot satisfy four-eyes on
    its own (the form's name is not an identity the engine can check): it counts only as the
    second of two approvals after someone else's in Slack, and never from the run's starter.

    Args:
        request: The request as kept.
        submitted: What the run was resumed with.
        answered_at: When it was submitted (the engine's stamp for its own answers, Prefect's
            for a form).
        first_vote: The first approval in Slack, for a request needing two approvers.
    """
    if isinstance(submitted, EngineAnswer):
        if submitted.request_id != request.request_id:
            return _refused(
                at=answered_at,
                reason=f"an answer to another request ({submitted.request_id}) reached this "
                "one and was refused; nothing was changed",
            )
        answer = ApprovalAnswer(
            decision=submitted.decision,
            by=submitted.by,
            reason=submitted.reason,
            channel=submitted.channel,
            decided_at=submitted.answered_at,
            answerers=submitted.answerers,
        )
    else:
        answer = ApprovalAnswer(
            decision=Decision.APPROVED if submitted.approve else Decision.REJECTED,
            by=submitted.by,
            reason=submitted.reason,
            channel=Channel.PREFECT_UI,
            decided_at=answered_at,
        )
    human = answer.decision in (Decision.APPROVED, Decision.REJECTED)
    if human and answer.decided_at > request.deadline:
        return _late(request, answer)
    if isinstance(submitted, FormAnswer) and answer.approved:
        return _four_eyes_in_the_ui(request, answer, first_vote=first_vote)
    return answer


def _late(request: ApprovalRequest, answer: ApprovalAnswer) -> ApprovalAnswer:
    what = "approval" if answer.approved else "rejection"
    return ApprovalAnswer(
        decision=Decision.TIMED_OUT,
        by=ENGINE_ANSWERER,
        reason=(
            f"no answer by {clock_time(request.deadline)}: rejected by default; a late {what} "
            f"from {answer.by} at {clock_time(answer.decided_at)} was refused"
        ),
        channel=Channel.ENGINE,
        decided_at=answer.decided_at,
        late_by=answer.by,
    )


def _same_person(name: str, other: str) -> bool:
    return name.strip().casefold() == other.strip().casefold()


def _four_eyes_in_the_ui(
    request: ApprovalRequest, answer: ApprovalAnswer, *, first_vote: Vote | None
) -> ApprovalAnswer:
    rules = request.rules
    starter = rules.started_by
    if rules.not_the_starter and starter and _same_person(answer.by, starter):
        return _refused(
            at=answer.decided_at,
            reason=f"four-eyes: {answer.by} started this run and may not approve it; "
            "nothing was changed",
        )
    if not rules.two_approvers:
        return answer
    if first_vote is None or _same_person(first_vote.by, answer.by):
        return _refused(
            at=answer.decided_at,
            reason=f"four-eyes: two different people must approve, and {answer.by}'s approval "
            "in the Prefect UI was the only one; nothing was changed",
        )
    return answer.model_copy(
        update={"by": f"{first_vote.by} and {answer.by}", "answerers": (first_vote.user_id,)}
    )


def _refused(*, at: datetime, reason: str) -> ApprovalAnswer:
    return ApprovalAnswer(
        decision=Decision.REJECTED,
        by=ENGINE_ANSWERER,
        reason=reason,
        channel=Channel.ENGINE,
        decided_at=at,
    )
