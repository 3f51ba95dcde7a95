"""What every change run records: the answer to its approval, its outcome, its steps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from enum import StrEnum

import pytest

from flows.approval import (
    Approval,
    ApprovalAnswer,
    ApprovalItem,
    ApprovalRequest,
    Channel,
    Decision,
    StepStatus,
)
from flows.run_record import (
    FlowRecord,
    Step,
    StepsRecord,
    answered,
    approved_by_policy,
)

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


class Outcome(StrEnum):
    """A flow's outcomes, as small as a test needs."""

    DONE = "done"
    FAILED = "failed"


class Record(FlowRecord[Outcome]):
    """A record without steps (as the checklist's)."""


class LoggedRecord(StepsRecord[Outcome]):
    """A record of steps (as the rollback's and the cleanup's)."""


def approval(decision: Decision, channel: Channel, *, reason: str = "") -> Approval:
    request = ApprovalRequest(
        request_id="7e2b9d0c4a1f3e58",
        gate="rollback-kube-proxy",
        flow_run_id="run-7",
        title="Roll kube-proxy back",
        items=[ApprovalItem(key="rollback_kube_proxy", description="roll", blast_radius="all")],
        requested_at=T0,
        deadline=T0 + timedelta(minutes=15),
    )
    answer = ApprovalAnswer(
        decision=decision,
        by="runbook-engine" if channel is Channel.ENGINE else "alice",
        reason=reason,
        channel=channel,
        decided_at=T0 + timedelta(minutes=2),
    )
    return Approval(request=request, answer=answer)


@pytest.mark.parametrize(
    ("decision", "channel"),
    [
        (Decision.APPROVED, Channel.PREFECT_UI),
        (Decision.REJECTED, Channel.SLACK),
        (Decision.TIMED_OUT, Channel.ENGINE),
    ],
    ids=["approved-in-the-ui", "rejected-in-slack", "timed-out-by-the-engine"],
)
def test_an_answer_is_recorded_as_given_and_when(decision: Decision, channel: Channel) -> None:
    recorded = answered(approval(decision, channel, reason="peak traffic"))

    assert (recorded.decision, recorded.channel, recorded.reason) == (
        decision,
        channel,
        "peak traffic",
    )
    assert (recorded.requested_at, recorded.decided_at) == (T0, T0 + timedelta(minutes=2))
    assert recorded.waited_seconds == 120


@pytest.mark.parametrize(
    ("drill", "channel"), [(False, Channel.POLICY), (True, Channel.DRILL)], ids=["policy", "drill"]
)
def test_changes_the_policy_approves_are_recorded_as_approved_by_it_at_once(
    drill: bool, channel: Channel
) -> None:
    recorded = approved_by_policy(T0, drill=drill)

    assert (recorded.decision, recorded.by, recorded.channel) == (
        Decision.APPROVED,
        "runbook policy",
        channel,
    )
    assert recorded.waited_seconds == 0


def test_a_run_is_in_progress_until_it_finishes() -> None:
    record = Record(started_at=T0)
    assert (record.outcome_text, record.finished_at) == ("in progress", None)

    record.finish(Outcome.DONE, "all good", at=T0 + timedelta(minutes=1))

    assert (record.outcome_text, record.outcome_detail, record.finished_at) == (
        "done",
        "all good",
        T0 + timedelta(minutes=1),
    )


def test_a_record_of_steps_logs_the_error_that_stopped_its_run_as_a_failed_step() -> None:
    record = LoggedRecord(started_at=T0)
    record.add_step("assess", StepStatus.DONE, "2 nodes", at=T0)

    record.note_error("403 Forbidden", at=T0 + timedelta(seconds=5))

    assert record.steps == [
        Step(name="assess", status=StepStatus.DONE, detail="2 nodes", at=T0),
        Step(
            name="error",
            status=StepStatus.FAILED,
            detail="403 Forbidden",
            at=T0 + timedelta(seconds=5),
        ),
    ]


def test_a_record_without_steps_keeps_no_trace_of_the_error_but_its_outcome() -> None:
    record = Record(started_at=T0)

    record.note_error("403 Forbidden", at=T0)

    assert record == Record(started_at=T0)


def test_a_record_comes_back_whole_from_its_checkpoint() -> None:
    record = LoggedRecord(started_at=T0, flow_run_id="run-7", dry_run=True)
    record.approval = answered(approval(Decision.APPROVED, Channel.SLACK))
    record.add_step("assess", StepStatus.DONE, "2 nodes", at=T0)
    record.finish(Outcome.DONE, at=T0)

    assert LoggedRecord.model_validate_json(record.model_dump_json()) == record
