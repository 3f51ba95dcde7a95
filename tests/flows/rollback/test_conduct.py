"""The rollback's final states: every outcome ends its run in a named state of the right kind."""

from __future__ import annotations

import pytest
from prefect.client.schemas.objects import StateType

from flows.change_run import final_state
from flows.rollback.conduct import STATES
from flows.rollback.record import Outcome

#: Every outcome's state: its type and name. A new Outcome member without a row here fails.
EXPECTED_STATES = {
    Outcome.ROLLED_BACK: (StateType.COMPLETED, "RolledBack"),
    Outcome.ALREADY_IN_PLACE: (StateType.COMPLETED, "AlreadyInPlace"),
    Outcome.NOTHING_TO_DO: (StateType.COMPLETED, "NothingToDo"),
    Outcome.DRY_RUN: (StateType.COMPLETED, "DryRun"),
    Outcome.REJECTED: (StateType.CANCELLED, "Rejected"),
    Outcome.APPROVAL_TIMED_OUT: (StateType.CANCELLED, "ApprovalTimedOut"),
    Outcome.SUPERSEDED: (StateType.CANCELLED, "Superseded"),
    Outcome.KUBE_PROXY_BUSY: (StateType.CANCELLED, "KubeProxyBusy"),
    Outcome.RESTORED: (StateType.FAILED, "RolloutFailedRestored"),
    Outcome.RESTORE_FAILED: (StateType.FAILED, "RestoreFailed"),
    Outcome.FAILED: (StateType.FAILED, "Failed"),
}


def test_every_outcome_has_an_expected_state() -> None:
    assert set(EXPECTED_STATES) == set(Outcome) == set(STATES)


@pytest.mark.parametrize("outcome", list(Outcome), ids=[o.name for o in Outcome])
def test_each_outcome_ends_in_its_named_state_with_the_detail_as_message(
    outcome: Outcome,
) -> None:
    state = final_state(STATES, outcome, "the detail")

    assert (state.type, state.name) == EXPECTED_STATES[outcome]
    assert state.message == f"{outcome.value}: the detail"
