"""Which approval policy a run follows: its runbook's, or the one for runs started by hand."""

from __future__ import annotations

from flows.policy import MANUAL_POLICY, policy_for
from runbooks.approval import ActionKind, ApprovalMode


def test_a_run_of_a_runbook_gets_that_runbooks_policy() -> None:
    runbook, policy = policy_for(["alert:ServiceDown", "runbook:service-down"])

    assert runbook == "service-down"
    assert policy.mode_for(ActionKind.PATCH_SERVICE) is ApprovalMode.REQUIRED
    assert policy.auto_approve_for_drills


def test_a_run_started_by_hand_needs_approval_unless_it_is_a_drill() -> None:
    runbook, policy = policy_for([])

    assert runbook is None
    assert policy is MANUAL_POLICY
    assert policy.mode_for(ActionKind.RESTART_APP_POD) is ApprovalMode.REQUIRED
    assert policy.mode_for(ActionKind.RESTART_APP_POD, drill=True) is ApprovalMode.AUTO
