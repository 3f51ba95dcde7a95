"""The cleanup's final states: every outcome ends its run in a named state of the right kind."""

from __future__ import annotations

import pytest
from prefect.client.schemas.objects import StateType

from flows.change_run import final_state
from flows.conntrack.conduct import STATES
from flows.conntrack.record import Outcome

#: Every outcome's state: its type and name. A new Outcome member without a row here fails.
EXPECTED_STATES = {
    Outcome.CLEANED: (StateType.COMPLETED, "Cleaned"),
    Outcome.NOTHING_TO_DO: (StateType.COMPLETED, "NothingToDo"),
    Outcome.DRY_RUN: (StateType.COMPLETED, "DryRun"),
    Outcome.REJECTED: (StateType.CANCELLED, "Rejected"),
    Outcome.APPROVAL_TIMED_OUT: (StateType.CANCELLED, "ApprovalTimedOut"),
    Outcome.NOT_CLEAN: (StateType.FAILED, "EntriesRemain"),
    Outcome.FAILED: (StateType.FAILED, "Failed"),
}


def test_every_outcome_has_an_expected_state() -> None:
    assert set(EXPECTED_STATES) == set(Outcome) == set(STATES)


@pytest.mark.parametrize("outcome", list(Outcome), ids=[o.name for o in Outcome])
def test_every_outcome_ends_in_its_named_state_with_the_detail(outcome: Outcome) -> None:
    state = final_state(STATES, outcome, "deleted 4 entries on 2 node(s)")

    assert (state.type, state.name) == EXPECTED_STATES[outcome]
    assert state.message == f"{outcome.value}: deleted 4 entries on 2 node(s)"
