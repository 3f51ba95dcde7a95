"""The checklist's run record: its approval in the shared vocabulary, its phases, its end."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from flows.approval import (
    Approval,
    ApprovalAnswer,
    ApprovalItem,
    ApprovalRequest,
    Channel,
    Decision,
)
from flows.checklist import (
    Outcome,
    Phase,
    RestartAppPod,
    RestartKubeProxyPod,
    RunRecord,
    StepsApproval,
)
from tests.flows.checklist.builders import parameters

T0 = datetime(2026, 11, 25, 17, 10, 0, tzinfo=UTC)
RESTART = RestartKubeProxyPod(
    pod="kube-proxy-node-2", uid="u2", node="node-2", wave=0, needs_approval=True
)
APP = RestartAppPod(
    namespace="shop", pod="web-1", uid="u1", owner="ReplicaSet", needs_approval=True
)


def approval(decision: Decision, channel: Channel, *, by: str = "alice") -> Approval:
    """A request for the restart, asked at T0 and answered 40 s later."""
    request = ApprovalRequest(
        request_id="7e2b9d0c4a1f3e58",
        gate="checklist-approval",
        flow_run_id="run-42",
        title="Approve 2 step(s)",
        items=[ApprovalItem(key=RESTART.key, description="restart", blast_radius="one pod")],
        requested_at=T0,
        deadline=T0 + timedelta(minutes=15),
    )
    answer = ApprovalAnswer(
        decision=decision,
        by=by,
        reason="",
        channel=channel,
        decided_at=T0 + timedelta(seconds=40),
    )
    return Approval(request=request, answer=answer)


@pytest.mark.parametrize(
    ("decision", "channel", "by"),
    [
        (Decision.APPROVED, Channel.PREFECT_UI, "alice"),
        (Decision.REJECTED, Channel.SLACK, "bob"),
        # Nobody answered: the engine did, and the record says so (it used to say nothing).
        (Decision.TIMED_OUT, Channel.ENGINE, "runbook-engine"),
    ],
    ids=["approved-in-the-ui", "rejected-in-slack", "timed-out-by-the-engine"],
)
def test_an_answer_is_recorded_with_who_gave_it_and_through_which_channel(
    decision: Decision, channel: Channel, by: str
) -> None:
    recorded = StepsApproval.answering(approval(decision, channel, by=by), [RESTART, APP])

    assert (recorded.decision, recorded.channel, recorded.by) == (decision, channel, by)
    assert recorded.action_keys == [RESTART.key, APP.key]
    assert recorded.phase is Phase.MITIGATE
    assert recorded.waited_seconds == 40


def test_a_drill_is_recorded_as_approved_by_the_runbook_policy() -> None:
    recorded = StepsApproval.drill([APP], at=T0)

    assert (recorded.decision, recorded.by, recorded.channel) == (
        Decision.APPROVED,
        "runbook policy",
        Channel.DRILL,
    )
    assert recorded.waited_seconds == 0


@pytest.mark.parametrize(
    ("phase", "waited"),
    [(None, 40.0), (Phase.MITIGATE, 40.0), (Phase.FIX, 0.0)],
    ids=["all-phases", "the-phase-that-waited", "another-phase"],
)
def test_the_wait_for_a_human_counts_in_the_phase_that_waited(
    phase: Phase | None, waited: float
) -> None:
    record = RunRecord(parameters=parameters(), started_at=T0)
    record.approval = StepsApproval.answering(approval(Decision.APPROVED, Channel.SLACK), [APP])

    assert record.human_wait_seconds(phase) == waited


def test_finishing_a_run_ends_its_open_phase_and_times_the_run() -> None:
    record = RunRecord(parameters=parameters(), started_at=T0)
    record.start_phase(Phase.VERIFY, at=T0 + timedelta(seconds=50))

    record.finish(Outcome.RECOVERED, "verified", at=T0 + timedelta(seconds=65))

    assert record.phases[-1].finished_at == T0 + timedelta(seconds=65)
    assert (record.outcome, record.outcome_detail, record.total_seconds) == (
        Outcome.RECOVERED,
        "verified",
        65,
    )
