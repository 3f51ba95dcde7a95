"""What a rollback run did, step by step, and how it ended (the report's content)."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from prefect.client.schemas.objects import State
from prefect.states import Cancelled, Completed, Failed
from pydantic import Field

from flows.run_record import FinalState, FlowRecord, final_state


class Outcome(StrEnum):
    """How a rollback run ended."""

    ROLLED_BACK = "rolled_back"
    NOTHING_TO_DO = "nothing_to_do"
    DRY_RUN = "dry_run"
    REJECTED = "rejected"
    APPROVAL_TIMED_OUT = "approval_timed_out"
    SUPERSEDED = "superseded"
    RESTORED = "restored_after_failed_rollout"
    RESTORE_FAILED = "restore_failed"
    FAILED = "failed"


class RollbackRecord(FlowRecord):
    """The rollback run's record, rendered as its report."""

    daemon_set: str
    from_revision: int | None = None
    to_revision: int | None = None
    image_changes: list[str] = Field(default_factory=list)
    diff: list[str] = Field(default_factory=list)
    outcome: Outcome | None = None

    def finish(self, outcome: Outcome, detail: str) -> None:
        """Record how the run ended."""
        self.outcome, self.outcome_detail = outcome, detail


_STATES: dict[Outcome, FinalState] = {
    Outcome.ROLLED_BACK: (Completed, "RolledBack"),
    Outcome.NOTHING_TO_DO: (Completed, "NothingToDo"),
    Outcome.DRY_RUN: (Completed, "DryRun"),
    Outcome.REJECTED: (Cancelled, "Rejected"),
    Outcome.APPROVAL_TIMED_OUT: (Cancelled, "ApprovalTimedOut"),
    Outcome.SUPERSEDED: (Cancelled, "Superseded"),
    Outcome.RESTORED: (Failed, "RolloutFailedRestored"),
    Outcome.RESTORE_FAILED: (Failed, "RestoreFailed"),
    Outcome.FAILED: (Failed, "Failed"),
}


def outcome_state(record: RollbackRecord) -> State[Any]:
    """The run's final state: named after the outcome, with the detail as message."""
    outcome = record.outcome or Outcome.FAILED
    return final_state(_STATES[outcome], outcome.value, record.outcome_detail)
