"""The checklist's final states: every outcome ends its run in a named state of the right kind."""

from __future__ import annotations

import pytest
from prefect.client.schemas.objects import StateType

from flows.change_run import final_state
from flows.checklist.conduct import STATES
from flows.checklist.record import Outcome

#: Every outcome's state: its type and name. A new Outcome member without a row here fails.
EXPECTED_STATES = {
    Outcome.RECOVERED: (StateType.COMPLETED, "Recovered"),
    Outcome.PARTIALLY_MITIGATED: (StateType.COMPLETED, "PartiallyMitigated"),
    Outcome.NOTHING_TO_DO: (StateType.COMPLETED, "NothingToDo"),
    Outcome.SCALED_TO_ZERO: (StateType.COMPLETED, "ScaledToZero"),
    Outcome.ROLLOUT_IN_PROGRESS: (StateType.COMPLETED, "RolloutInProgress"),
    Outcome.PODS_UNSCHEDULABLE: (StateType.COMPLETED, "PodsUnschedulable"),
    Outcome.DRY_RUN: (StateType.COMPLETED, "DryRun"),
    Outcome.ALERT_RESOLVED: (StateType.COMPLETED, "AlertResolved"),
    Outcome.JOINED_INCIDENT: (StateType.COMPLETED, "JoinedIncident"),
    Outcome.REJECTED: (StateType.CANCELLED, "Rejected"),
    Outcome.APPROVAL_TIMED_OUT: (StateType.CANCELLED, "ApprovalTimedOut"),
    Outcome.NOT_RECOVERED: (StateType.FAILED, "NotRecovered"),
    Outcome.FAILED: (StateType.FAILED, "Failed"),
}


def test_every_outcome_has_an_expected_state() -> None:
    assert set(EXPECTED_STATES) == set(Outcome) == set(STATES)


@pytest.mark.parametrize("outcome", list(Outcome), ids=[o.name for o in Outcome])
def test_each_outcome_ends_in_its_named_state_with_the_detail_as_message(
    outcome: Outcome,
) -> None:
    state = final_state(STATES, outcome, "verified: 2 ready")

    assert (state.type, state.name) == EXPECTED_STATES[outcome]
    assert state.message == f"{outcome.value}: verified: 2 ready"
