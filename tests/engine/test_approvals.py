"""The approval sweeper answers for nobody until the deadline passes or the alert resolves."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from engine.approvals import decide_for_waiting
from flows.approval import ApprovalItem, ApprovalRequest

ASKED = datetime(2025, 1, 10, 9, 0, tzinfo=UTC)


def _request(*, with_alert: bool = True) -> ApprovalRequest:
    return ApprovalRequest(
        gate="checklist-approval",
        flow_run_id="3efe0f3c-f890-47cb-893c-a5ec2ab5ed51",
        title="Approve 1 step",
        items=[ApprovalItem(key="k", description="d", blast_radius="b")],
        requested_at=ASKED,
        deadline=ASKED + timedelta(minutes=15),
        alert_fingerprint="5f0c3a9d1e7b2c44" if with_alert else None,
        alert_starts_at=ASKED if with_alert else None,
        alertname="ServiceDown" if with_alert else None,
    )


@pytest.mark.parametrize(
    ("minutes_later", "alert_firing", "expected"),
    [
        (1, True, None),
        (1, None, None),
        (15, True, "approval timed out"),
        (20, False, "approval timed out"),
        (1, False, "alert resolved"),
    ],
)
def test_a_waiting_request_is_answered_only_when_due(
    minutes_later: int, alert_firing: bool | None, expected: str | None
) -> None:
    answer = decide_for_waiting(
        _request(), now=ASKED + timedelta(minutes=minutes_later), alert_firing=alert_firing
    )

    assert (answer.why if answer else None) == expected


def test_the_timeout_answer_is_a_rejection_marked_timed_out_by_the_engine() -> None:
    answer = decide_for_waiting(_request(), now=ASKED + timedelta(hours=1), alert_firing=True)

    assert answer is not None
    assert answer.run_input["approve"] is False
    assert answer.run_input["timed_out"] is True
    assert answer.run_input["by"] == "runbook-engine"
