"""What a rollback run did, step by step, and how it ended (the report's content)."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from prefect.client.schemas.objects import State
from prefect.states import Cancelled, Completed, Failed
from pydantic import Field

from flows.run_record import FlowRecord


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


_STATE_NAMES = {
    Outcome.ROLLED_BACK: "RolledBack",
    Outcome.NOTHING_TO_DO: "NothingToDo",
    Outcome.DRY_RUN: "DryRun",
    Outcome.REJECTED: "Rejected",
    Outcome.APPROVAL_TIMED_OUT: "ApprovalTimedOut",
    Outcome.SUPERSEDED: "Superseded",
    Outcome.RESTORED: "RolloutFailedRestored",
    Outcome.RESTORE_FAILED: "RestoreFailed",
    Outcome.FAILED: "Failed",
}
_CANCELLED = frozenset({Outcome.REJECTED, Outcome.APPROVAL_TIMED_OUT, Outcome.SUPERSEDED})
_FAILED = frozenset({Outcome.RESTORED, Outcome.RESTORE_FAILED, Outcome.FAILED})


def outcome_state(record: RollbackRecord) -> State[Any]:
    """The run's final state: named after the outcome, with the detail as message."""
    outcome = record.outcome or Outcome.FAILED
    message = outcome.value + (f": {record.outcome_detail}" if record.outcome_detail else "")
    name = _STATE_NAMES[outcome]
    if outcome in _FAILED:
        return Failed(name=name, message=message)
    if outcome in _CANCELLED:
        return Cancelled(name=name, message=message)
    return Completed(name=name, message=message)
