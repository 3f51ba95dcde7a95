"""The answer form and what an answer means: the deadline at the moment of the answer, the
request it names, four-eyes in the Prefect UI; and the answers the engine submits itself."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from prefect._internal.pydantic.v2_schema import create_v2_schema
from prefect.utilities.schema_tools import ValidationError, validate

from flows.approval import ApprovalItem, ApprovalRequest, ApprovalRules, Channel, Decision
from flows.approval.form import (
    EngineAnswer,
    FormAnswer,
    Submitted,
    Vote,
    form_for,
    judge_answer,
    read_submitted,
    timed_out,
    withdrawn,
)
from runbooks.approval import FourEyes

ASKED = datetime(2025, 1, 10, 9, 0, tzinfo=UTC)
DEADLINE = ASKED + timedelta(seconds=40)
REQUEST = ApprovalRequest(
    gate="rollback-kube-proxy",
    request_id="4f1c2e9ab7d05a63",
    flow_run_id="0f4c9a1e-5b7d-4e2a-9c3b-2d1e0f9a8b7c",
    title="Roll kube-proxy back from revision 2 to 1",
    items=[ApprovalItem(key="rollback_kube_proxy", description="roll back", blast_radius="all")],
    requested_at=ASKED,
    deadline=DEADLINE,
)
TWO = REQUEST.model_copy(
    update={"rules": ApprovalRules(four_eyes=frozenset({FourEyes.TWO_APPROVERS}))}
)
NOT_STARTER = REQUEST.model_copy(
    update={
        "rules": ApprovalRules(four_eyes=frozenset({FourEyes.NOT_THE_STARTER}), started_by="Alice")
    }
)


def pressed(
    decision: Decision, *, late_by: float = -1.0, request_id: str = REQUEST.request_id
) -> EngineAnswer:
    return EngineAnswer(
        request_id=request_id,
        decision=decision,
        by="oncall (Slack U0123ABCD)",
        answerers=("U0123ABCD",),
        reason="answered in Slack",
        channel=Channel.SLACK,
        answered_at=DEADLINE + timedelta(seconds=late_by),
    )


def form(*, approve: bool, by: str = "alice") -> FormAnswer:
    return FormAnswer(approve=approve, by=by)


VOTE = Vote(user_id="U0TWO", by="two (Slack U0TWO)", at=ASKED + timedelta(seconds=5))
IN_TIME = DEADLINE - timedelta(seconds=1)
LATE = DEADLINE + timedelta(seconds=0.45)


@pytest.mark.parametrize(
    ("request_", "submitted", "answered_at", "vote", "decision", "by"),
    [
        (REQUEST, form(approve=True), IN_TIME, None, Decision.APPROVED, "alice"),
        (REQUEST, form(approve=False), IN_TIME, None, Decision.REJECTED, "alice"),
        (REQUEST, form(approve=True), LATE, None, Decision.TIMED_OUT, "runbook-engine"),
        (REQUEST, form(approve=False), LATE, None, Decision.TIMED_OUT, "runbook-engine"),
        (REQUEST, form(approve=True), DEADLINE, None, Decision.APPROVED, "alice"),
        (
            REQUEST,
            pressed(Decision.APPROVED),
            LATE,
            None,
            Decision.APPROVED,
            "oncall (Slack U0123ABCD)",
        ),
        (
            REQUEST,
            pressed(Decision.APPROVED, late_by=0.9),
            IN_TIME,
            None,
            Decision.TIMED_OUT,
            "runbook-engine",
        ),
        (
            REQUEST,
            pressed(Decision.APPROVED, request_id="0000aaaa1111bbbb"),
            IN_TIME,
            None,
            Decision.REJECTED,
            "runbook-engine",
        ),
        (REQUEST, timed_out(REQUEST, now=LATE), LATE, None, Decision.TIMED_OUT, "runbook-engine"),
        (
            REQUEST,
            withdrawn(REQUEST, "the alert resolved", now=IN_TIME),
            IN_TIME,
            None,
            Decision.WITHDRAWN,
            "runbook-engine",
        ),
        (TWO, form(approve=True), IN_TIME, None, Decision.REJECTED, "runbook-engine"),
        (
            TWO,
            form(approve=True, by="two (Slack U0TWO)"),
            IN_TIME,
            VOTE,
            Decision.REJECTED,
            "runbook-engine",
        ),
        (TWO, form(approve=True), IN_TIME, VOTE, Decision.APPROVED, "two (Slack U0TWO) and alice"),
        (TWO, form(approve=False), IN_TIME, None, Decision.REJECTED, "alice"),
        (
            NOT_STARTER,
            form(approve=True, by="alice "),
            IN_TIME,
            None,
            Decision.REJECTED,
            "runbook-engine",
        ),
        (NOT_STARTER, form(approve=True, by="bob"), IN_TIME, None, Decision.APPROVED, "bob"),
    ],
    ids=[
        "ui-approval-in-time",
        "ui-rejection-in-time",
        "ui-approval-0.45s-late-is-a-timeout",
        "ui-rejection-late-is-a-timeout",
        "ui-approval-at-the-deadline-itself",
        "slack-approval-stamped-in-time-read-late",
        "slack-approval-stamped-0.9s-late-is-a-timeout",
        "an-answer-naming-another-request-is-refused",
        "engine-timeout",
        "engine-withdrawal",
        "four-eyes-ui-approval-alone-is-refused",
        "four-eyes-the-same-person-twice-is-refused",
        "four-eyes-ui-approval-after-another-persons-slack-approval",
        "four-eyes-a-rejection-needs-one-person",
        "the-starter-may-not-approve-in-the-ui",
        "someone-else-may-approve-in-the-ui",
    ],
)
def test_what_an_answer_means_for_the_run(
    request_: ApprovalRequest,
    submitted: Submitted,
    answered_at: datetime,
    vote: Vote | None,
    decision: Decision,
    by: str,
) -> None:
    answer = judge_answer(request_, submitted, answered_at=answered_at, first_vote=vote)

    assert (answer.decision, answer.by) == (decision, by)


def test_a_late_answer_is_named_in_the_timeout_with_its_time_and_no_microseconds() -> None:
    answer = judge_answer(REQUEST, form(approve=True), answered_at=LATE)

    assert answer.late_by == "alice"
    assert answer.reason == (
        "no answer by 2025-01-10 09:00:40 UTC: rejected by default; a late approval from alice "
        "at 2025-01-10 09:00:40 UTC was refused"
    )


def test_the_form_offers_a_human_only_what_a_human_answers_with_titles() -> None:
    schema = create_v2_schema("ApprovalForm", model_base=form_for(REQUEST))

    assert {name: field["title"] for name, field in schema["properties"].items()} == {
        "approve": "Approve",
        "by": "Your name",
        "reason": "Reason",
    }
    assert schema["required"] == ["by"]


@pytest.mark.parametrize(
    ("run_input", "accepted"),
    [
        ({"approve": True, "by": "alice"}, True),
        ({"approve": True}, False),
        (pressed(Decision.APPROVED).run_input(), True),
        (pressed(Decision.APPROVED, request_id="0000aaaa1111bbbb").run_input(), False),
    ],
    ids=["ui-answer", "ui-answer-without-who", "engine-answer", "answer-to-another-request"],
)
def test_prefect_takes_only_answers_for_the_waiting_request(
    run_input: dict[str, object], accepted: bool
) -> None:
    schema = create_v2_schema("ApprovalForm", model_base=form_for(REQUEST))

    if accepted:
        validate(run_input, schema, raise_on_error=True)
    else:
        with pytest.raises(ValidationError):
            validate(run_input, schema, raise_on_error=True)


def test_a_stored_answer_reads_back_as_the_engines_or_a_forms() -> None:
    engine = pressed(Decision.REJECTED)

    assert read_submitted(engine.run_input()) == engine
    assert read_submitted({"approve": True, "by": "alice", "reason": ""}) == form(approve=True)


def test_the_engines_own_answers_name_the_request_and_come_through_the_engine_channel() -> None:
    answers = [timed_out(REQUEST, now=LATE), withdrawn(REQUEST, "the alert resolved", now=LATE)]

    assert [(a.request_id, a.channel, a.by) for a in answers] == [
        (REQUEST.request_id, Channel.ENGINE, "runbook-engine")
    ] * 2
    assert [a.decision for a in answers] == [Decision.TIMED_OUT, Decision.WITHDRAWN]
