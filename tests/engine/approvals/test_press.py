"""What a Slack press may do to the request it was posted for: a table of situations."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from engine.approvals.press import (
    Allowed,
    FirstApproval,
    Refuse,
    Resume,
    Situation,
    Verdict,
    judge_press,
)
from flows.approval import (
    ApprovalAnswer,
    ApprovalItem,
    ApprovalRequest,
    ApprovalRules,
    Channel,
    Decision,
)
from flows.approval.form import Vote
from integrations.slack import ButtonPress
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
PRESS = ButtonPress(
    approve=True,
    run_id=REQUEST.flow_run_id,
    gate=REQUEST.gate,
    request_id=REQUEST.request_id,
    user_id="U0123ABCD",
    user_name="oncall",
    channel="C0123ABC",
    message_ts="1736499600.000200",
    thread_ts="1736499600.000100",
)
WAITING = Situation(run_found=True, state_name="Suspended", paused_at=REQUEST.gate, request=REQUEST)
ANYONE = Allowed(None, "anyone who can see this message")
IN_TIME = DEADLINE - timedelta(seconds=5)
APPROVED = ApprovalAnswer(
    decision=Decision.APPROVED,
    by="two (Slack U0TWO)",
    channel=Channel.SLACK,
    decided_at=ASKED + timedelta(seconds=12),
    answerers=("U0TWO",),
)


def with_rules(**rules: Any) -> Situation:
    """The waiting situation, its request with ``rules``."""
    request = REQUEST.model_copy(update={"rules": ApprovalRules(**rules)})
    return replace(WAITING, request=request)


TWO = frozenset({FourEyes.TWO_APPROVERS})
FIRST_VOTE = Vote(user_id="U0TWO", by="two (Slack U0TWO)", at=ASKED + timedelta(seconds=3))


@pytest.mark.parametrize(
    ("press", "situation", "now", "allowed", "expected"),
    [
        (PRESS, WAITING, IN_TIME, ANYONE, "resume approved by U0123ABCD"),
        (replace(PRESS, approve=False), WAITING, IN_TIME, ANYONE, "resume rejected by U0123ABCD"),
        (
            PRESS,
            WAITING,
            DEADLINE + timedelta(seconds=0.45),
            ANYONE,
            "refuse: This request expired at <!date^1736499640^",
        ),
        (PRESS, WAITING, DEADLINE + timedelta(seconds=0.9), ANYONE, "refuse: This request expired"),
        (PRESS, WAITING, DEADLINE, ANYONE, "resume approved by U0123ABCD"),
        (
            PRESS,
            Situation(run_found=False),
            IN_TIME,
            ANYONE,
            "refuse: This request's run no longer exists",
        ),
        (
            PRESS,
            replace(WAITING, request=None),
            IN_TIME,
            ANYONE,
            "refuse: The run has no approval request `rollback-kube-proxy`",
        ),
        (
            replace(PRESS, request_id="0000aaaa1111bbbb"),
            WAITING,
            IN_TIME,
            ANYONE,
            "refuse: This button belongs to an earlier request",
        ),
        (
            PRESS,
            replace(WAITING, answer=APPROVED),
            IN_TIME,
            ANYONE,
            "refuse: Already approved by <@U0TWO> at <!date^1736499612^",
        ),
        (
            PRESS,
            replace(WAITING, answer=APPROVED),
            DEADLINE + timedelta(hours=1),
            ANYONE,
            "refuse: Already approved by <@U0TWO>",
        ),
        (
            PRESS,
            replace(WAITING, paused_at="second", state_name="Suspended"),
            IN_TIME,
            ANYONE,
            "refuse: The run no longer waits for this request (it is Suspended)",
        ),
        (
            PRESS,
            replace(WAITING, paused_at=None, state_name="Crashed"),
            IN_TIME,
            ANYONE,
            "refuse: The run no longer waits for this request (it is Crashed)",
        ),
        (
            PRESS,
            replace(WAITING, paused_at=None, state_name="Running", running=True),
            IN_TIME,
            ANYONE,
            "refuse: The run is not waiting yet; press again in a moment.",
        ),
        (
            PRESS,
            WAITING,
            IN_TIME,
            Allowed(frozenset({"U0TWO"}), "<@U0TWO>"),
            "refuse: You are not one of this request's approvers (<@U0TWO>)",
        ),
        (
            PRESS,
            WAITING,
            IN_TIME,
            Allowed(frozenset({"U0123ABCD"}), "<@U0123ABCD>"),
            "resume approved by U0123ABCD",
        ),
        (
            PRESS,
            with_rules(four_eyes=frozenset({FourEyes.NOT_THE_STARTER}), started_by="U0123ABCD"),
            IN_TIME,
            ANYONE,
            "refuse: You started this run",
        ),
        (
            replace(PRESS, approve=False),
            with_rules(four_eyes=frozenset({FourEyes.NOT_THE_STARTER}), started_by="U0123ABCD"),
            IN_TIME,
            ANYONE,
            "resume rejected by U0123ABCD",
        ),
        (
            PRESS,
            with_rules(four_eyes=frozenset({FourEyes.NOT_THE_STARTER}), started_by="U0TWO"),
            IN_TIME,
            ANYONE,
            "resume approved by U0123ABCD",
        ),
        (PRESS, with_rules(four_eyes=TWO), IN_TIME, ANYONE, "first approval by U0123ABCD"),
        (
            PRESS,
            replace(with_rules(four_eyes=TWO), first_vote=FIRST_VOTE),
            IN_TIME,
            ANYONE,
            "resume approved by U0TWO, U0123ABCD",
        ),
        (
            PRESS,
            replace(
                with_rules(four_eyes=TWO),
                first_vote=FIRST_VOTE.model_copy(update={"user_id": "U0123ABCD"}),
            ),
            IN_TIME,
            ANYONE,
            "refuse: You approved already",
        ),
        (
            replace(PRESS, approve=False),
            replace(with_rules(four_eyes=TWO), first_vote=FIRST_VOTE),
            IN_TIME,
            ANYONE,
            "resume rejected by U0123ABCD",
        ),
    ],
    ids=[
        "approve-in-time",
        "reject-in-time",
        "approve-0.45s-after-the-deadline",
        "approve-0.9s-after-the-deadline",
        "approve-at-the-deadline-itself",
        "the-run-was-deleted",
        "the-run-keeps-no-such-request",
        "a-button-of-another-request",
        "a-second-press-is-told-who-answered-and-when",
        "a-late-repeated-press-is-told-who-answered-not-that-it-is-late",
        "the-run-waits-on-a-later-request",
        "the-run-ended",
        "the-run-is-about-to-wait",
        "not-an-approver",
        "an-approver",
        "the-starter-may-not-approve",
        "the-starter-may-reject",
        "someone-else-may-approve",
        "first-of-two-approvals",
        "second-approval-by-someone-else",
        "the-same-person-twice",
        "a-rejection-after-one-approval-stops-it",
    ],
)
def test_what_a_press_does(
    press: ButtonPress, situation: Situation, now: datetime, allowed: Allowed, expected: str
) -> None:
    assert described(judge_press(press, situation, now=now, allowed=allowed)).startswith(expected)


def described(verdict: Verdict) -> str:
    if isinstance(verdict, Refuse):
        return f"refuse: {verdict.text}"
    if isinstance(verdict, FirstApproval):
        return f"first approval by {verdict.vote.user_id}"
    answer = verdict.answer
    return f"resume {answer.decision.value} by {', '.join(answer.answerers)}"


def test_every_refusal_says_nothing_was_changed() -> None:
    late = judge_press(PRESS, WAITING, now=DEADLINE + timedelta(seconds=1), allowed=ANYONE)

    assert isinstance(late, Refuse)
    assert late.text == (
        "This request expired at <!date^1736499640^{date_short_pretty} {time}|2025-01-10 09:00 "
        "UTC>: no answer by then counts as a rejection. Nothing was changed."
    )


def test_an_answer_from_slack_names_the_request_the_presser_and_the_moment() -> None:
    verdict = judge_press(PRESS, WAITING, now=IN_TIME, allowed=ANYONE)

    assert isinstance(verdict, Resume)
    answer = verdict.answer
    assert (answer.request_id, answer.by, answer.channel, answer.answered_at) == (
        REQUEST.request_id,
        "oncall (Slack U0123ABCD)",
        Channel.SLACK,
        IN_TIME,
    )
