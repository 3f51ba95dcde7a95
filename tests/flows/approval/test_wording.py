"""What Slack says about an answer: who (mentions), when (each reader's time zone), what."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from flows.approval import (
    ApprovalAnswer,
    ApprovalItem,
    ApprovalRequest,
    ApprovalRules,
    Channel,
    Decision,
)
from flows.approval.wording import already_text, approvers_text, decision_text

ASKED = datetime(2025, 1, 10, 9, 0, tzinfo=UTC)
REQUEST = ApprovalRequest(
    gate="checklist-approval",
    request_id="4f1c2e9ab7d05a63",
    flow_run_id="0f4c9a1e-5b7d-4e2a-9c3b-2d1e0f9a8b7c",
    title="Approve 1 step",
    items=[ApprovalItem(key="k", description="d", blast_radius="b")],
    requested_at=ASKED,
    deadline=ASKED + timedelta(minutes=15),
)
AT = ASKED + timedelta(minutes=2, seconds=3, microseconds=456789)
WHEN = "<!date^1736499723^{date_short_pretty} {time}|2025-01-10 09:02 UTC>"
DEADLINE = "<!date^1736500500^{date_short_pretty} {time}|2025-01-10 09:15 UTC>"


def answer(decision: Decision, **fields: object) -> ApprovalAnswer:
    values: dict[str, object] = {
        "decision": decision,
        "by": "oncall (Slack U0123ABCD)",
        "reason": "answered in Slack",
        "channel": Channel.SLACK,
        "decided_at": AT,
        "answerers": ("U0123ABCD",),
        **fields,
    }
    return ApprovalAnswer.model_validate(values)


@pytest.mark.parametrize(
    ("given", "text"),
    [
        (answer(Decision.APPROVED), f"Approved by <@U0123ABCD> at {WHEN}"),
        (
            answer(Decision.APPROVED, answerers=("U1", "U2")),
            f"Approved by <@U1> and <@U2> at {WHEN}",
        ),
        (
            answer(
                Decision.REJECTED,
                by="alice",
                channel=Channel.PREFECT_UI,
                answerers=(),
                reason="not now",
            ),
            f"Rejected by alice (Prefect UI) at {WHEN}: not now",
        ),
        (
            answer(
                Decision.WITHDRAWN,
                by="runbook-engine",
                channel=Channel.ENGINE,
                answerers=(),
                reason="the alert ServiceDown resolved while waiting",
            ),
            f"Withdrawn at {WHEN}: the alert ServiceDown resolved while waiting",
        ),
        (
            answer(Decision.TIMED_OUT, by="runbook-engine", channel=Channel.ENGINE, answerers=()),
            f"Not answered by {DEADLINE}: rejected by default",
        ),
        (
            answer(
                Decision.TIMED_OUT,
                by="runbook-engine",
                channel=Channel.ENGINE,
                answerers=(),
                late_by="alice",
            ),
            f"Not answered by {DEADLINE}: rejected by default; "
            f"a late answer from alice at {WHEN} was refused",
        ),
    ],
    ids=["approved", "approved-by-two", "rejected-in-the-ui", "withdrawn", "timed-out", "late"],
)
def test_an_answer_in_one_line(given: ApprovalAnswer, text: str) -> None:
    assert decision_text(REQUEST, given) == text


def test_a_late_or_second_press_is_told_what_stands() -> None:
    assert already_text(REQUEST, answer(Decision.APPROVED)) == (
        f"Already approved by <@U0123ABCD> at {WHEN}. Your press changed nothing."
    )


def test_a_withdrawn_request_is_not_called_rejected() -> None:
    withdrawn = answer(
        Decision.WITHDRAWN,
        by="runbook-engine",
        channel=Channel.ENGINE,
        answerers=(),
        reason="the alert resolved",
    )

    assert already_text(REQUEST, withdrawn).startswith("Already withdrawn at ")
    assert "ejected" not in decision_text(REQUEST, withdrawn)


@pytest.mark.parametrize(
    ("rules", "default", "text"),
    [
        (ApprovalRules(), (), "anyone who can see this message"),
        (ApprovalRules(), ("U1", "S0ONCALL"), "<@U1>, members of <!subteam^S0ONCALL>"),
        (ApprovalRules(approvers=("U7",)), ("U1",), "<@U7>"),
    ],
    ids=["nobody-named", "the-engines", "the-runbooks"],
)
def test_who_may_answer_in_words(rules: ApprovalRules, default: tuple[str, ...], text: str) -> None:
    assert approvers_text(rules, default=default) == text
