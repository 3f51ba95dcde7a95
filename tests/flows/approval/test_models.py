"""The approval vocabulary's wording: an answer as one line of a run's log."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from flows.approval import ApprovalAnswer, Channel, Decision, answer_line

AT = datetime(2026, 12, 4, 3, 12, 5, tzinfo=UTC)


@pytest.mark.parametrize(
    ("decision", "by", "channel", "reason", "line"),
    [
        (
            Decision.APPROVED,
            "alice",
            Channel.PREFECT_UI,
            "selector typo",
            "approved by alice via prefect_ui at 2026-12-04 03:12:05 UTC: selector typo",
        ),
        (
            Decision.REJECTED,
            "oncall (Slack U0123ABCD)",
            Channel.SLACK,
            "",
            "rejected by oncall (Slack U0123ABCD) via slack at 2026-12-04 03:12:05 UTC",
        ),
        (
            Decision.TIMED_OUT,
            "runbook-engine",
            Channel.ENGINE,
            "nobody answered by the deadline",
            "timed_out by runbook-engine via engine at 2026-12-04 03:12:05 UTC: "
            "nobody answered by the deadline",
        ),
    ],
)
def test_an_answer_reads_as_one_line_saying_what_who_where_when_and_why(
    decision: Decision, by: str, channel: Channel, reason: str, line: str
) -> None:
    answer = ApprovalAnswer(decision=decision, by=by, channel=channel, reason=reason, decided_at=AT)
    assert answer_line(answer) == line
