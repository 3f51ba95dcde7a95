"""What a conntrack cleanup run did, node by node, and how it ended (the report's content)."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from prefect.client.schemas.objects import State
from prefect.states import Cancelled, Completed, Failed
from pydantic import Field

from flows.run_record import (
    FinalState,
    FlowRecord,
    approval_table,
    final_state,
    steps_table,
)


class Outcome(StrEnum):
    """How a cleanup run ended."""

    CLEANED = "cleaned"
    NOTHING_TO_DO = "nothing_to_do"
    DRY_RUN = "dry_run"
    REJECTED = "rejected"
    APPROVAL_TIMED_OUT = "approval_timed_out"
    NOT_CLEAN = "entries_remain"
    FAILED = "failed"


class CleanupRecord(FlowRecord):
    """The cleanup run's record, rendered as its report."""

    target: str
    planned: list[str] = Field(default_factory=list)
    unreachable: list[str] = Field(default_factory=list)
    outcome: Outcome | None = None

    def finish(self, outcome: Outcome, detail: str) -> None:
        """Record how the run ended."""
        self.outcome, self.outcome_detail = outcome, detail


_STATES: dict[Outcome, FinalState] = {
    Outcome.CLEANED: (Completed, "Cleaned"),
    Outcome.NOTHING_TO_DO: (Completed, "NothingToDo"),
    Outcome.DRY_RUN: (Completed, "DryRun"),
    Outcome.REJECTED: (Cancelled, "Rejected"),
    Outcome.APPROVAL_TIMED_OUT: (Cancelled, "ApprovalTimedOut"),
    Outcome.NOT_CLEAN: (Failed, "EntriesRemain"),
    Outcome.FAILED: (Failed, "Failed"),
}


def outcome_state(record: CleanupRecord) -> State[Any]:
    """The run's final state: named after the outcome, with the detail as message."""
    outcome = record.outcome or Outcome.FAILED
    return final_state(_STATES[outcome], outcome.value, record.outcome_detail)


def report_key(flow_run_id: str) -> str:
    """The artifact key of a run's report (each publication is a new version)."""
    return f"conntrack-report-{flow_run_id}"


def render_report(record: CleanupRecord) -> str:
    """The report: target, planned deletions, approval, what each node did, outcome."""
    outcome = record.outcome.value if record.outcome else "in progress"
    detail = f": {record.outcome_detail}" if record.outcome_detail else ""
    lines = [
        f"# conntrack cleanup: {record.target}",
        "",
        f"**Outcome: {outcome}**{detail}",
        "",
        f"- started: {record.started_at.isoformat()}",
        f"- dry run: {'yes' if record.dry_run else 'no'}",
    ]
    if record.planned:
        lines += ["", "## Planned", "", *(f"- {line}" for line in record.planned)]
    if record.unreachable:
        lines += ["", "## Not looked at", "", *(f"- {line}" for line in record.unreachable)]
    if record.approval is not None:
        lines += ["", *approval_table(record.approval)]
    if record.steps:
        lines += ["", *steps_table(record.steps)]
    return "\n".join(lines) + "\n"
