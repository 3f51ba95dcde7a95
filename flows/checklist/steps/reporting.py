"""The run's report as a Prefect artifact, its record kept across an approval, its end state."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from prefect.artifacts import create_markdown_artifact
from prefect.client.schemas.objects import State
from prefect.states import Cancelled, Completed, Failed

from flows.approval import keep_once
from flows.checklist.record import Outcome, RunRecord
from flows.checklist.report import render_report

_STATE_NAMES = {
    Outcome.RECOVERED: "Recovered",
    Outcome.NOTHING_TO_DO: "NothingToDo",
    Outcome.DRY_RUN: "DryRun",
    Outcome.ALERT_RESOLVED: "AlertResolved",
    Outcome.REJECTED: "Rejected",
    Outcome.APPROVAL_TIMED_OUT: "ApprovalTimedOut",
    Outcome.NOT_RECOVERED: "NotRecovered",
    Outcome.FAILED: "Failed",
}
_CANCELLED = frozenset({Outcome.REJECTED, Outcome.APPROVAL_TIMED_OUT})
_FAILED = frozenset({Outcome.NOT_RECOVERED, Outcome.FAILED})


def report_key(flow_run_id: str) -> str:
    """The artifact key of a run's report (one per run; each publication is a new version)."""
    return f"checklist-report-{flow_run_id}"


def publish_report(record: RunRecord) -> None:
    """Publish the report as the run's markdown artifact."""
    outcome = record.outcome.value if record.outcome else "in progress"
    create_markdown_artifact(
        markdown=render_report(record),
        key=report_key(record.flow_run_id or "unknown"),
        description=f"Five-minute checklist report ({outcome})",
    )


def checkpoint(record: RunRecord, *, gate: str) -> tuple[RunRecord, bool]:
    """Keep the record as it stands before `gate`, or get back the one kept by the first run.

    A run re-run after its approval replays the steps before the gate from persisted results;
    the record kept here keeps their original times.

    Returns:
        The record to continue with, and whether it was kept just now (first time at the gate).
    """
    if record.flow_run_id is None:
        return record, True
    kept, new = keep_once(
        UUID(record.flow_run_id), f"checklist-record-{gate}", record.model_dump_json()
    )
    return (record if new else RunRecord.model_validate_json(kept)), new


def outcome_state(record: RunRecord) -> State[Any]:
    """The flow run's final state: named after the outcome, with the outcome as message."""
    outcome = record.outcome or Outcome.FAILED
    message = outcome.value + (f": {record.outcome_detail}" if record.outcome_detail else "")
    name = _STATE_NAMES[outcome]
    if outcome in _FAILED:
        return Failed(name=name, message=message)
    if outcome in _CANCELLED:
        return Cancelled(name=name, message=message)
    return Completed(name=name, message=message)
