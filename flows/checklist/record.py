"""The run record the checklist flow fills as it goes, and the report is rendered from."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from flows.checklist.actions import (
    PatchServiceSelector,
    PatchServiceTargetPort,
    Phase,
)
from flows.checklist.findings import Finding
from flows.checklist.parameters import ChecklistParameters
from flows.checklist.plans import Action, Note, Plan
from runbooks.approval import ActionKind


class Outcome(StrEnum):
    """How a checklist run ended."""

    RECOVERED = "recovered"
    NOT_RECOVERED = "not_recovered"
    NOTHING_TO_DO = "nothing_to_do"
    REJECTED = "rejected"
    APPROVAL_TIMED_OUT = "approval_timed_out"
    ALERT_RESOLVED = "alert_resolved"
    DRY_RUN = "dry_run"
    FAILED = "failed"


class ActionStatus(StrEnum):
    """What became of one planned step."""

    PLANNED = "planned"
    DONE = "done"
    SKIPPED = "skipped"
    FAILED = "failed"
    DRY_RUN = "dry_run"


class ApprovalDecision(StrEnum):
    """A human's (or the policy's) answer to an approval request."""

    APPROVED = "approved"
    REJECTED = "rejected"
    TIMED_OUT = "timed_out"


class ApprovalChannel(StrEnum):
    """Where an approval came from."""

    SLACK = "slack"
    PREFECT_UI = "prefect_ui"
    DRILL = "drill"


class AlertInfo(BaseModel):
    """The alert that started the run."""

    alertname: str | None = None
    fingerprint: str | None = None
    starts_at: datetime | None = None
    labels: dict[str, str] = Field(default_factory=dict)


#: Run labels the dispatcher sets that are not the alert's own labels.
_IDENTITY_LABELS = frozenset({"fingerprint", "starts_at"})


def alert_labels_of(run_labels: Mapping[str, object]) -> dict[str, str]:
    """The alert's labels, as the dispatcher keeps them on its run (``alert.<name>``)."""
    return {
        key.removeprefix("alert."): str(value)
        for key, value in run_labels.items()
        if key.startswith("alert.") and key.removeprefix("alert.") not in _IDENTITY_LABELS
    }


class ApprovalRecord(BaseModel):
    """One approval request and its answer; a timeout counts as a rejection."""

    action_keys: list[str]
    phase: Phase
    requested_at: datetime
    decided_at: datetime
    decision: ApprovalDecision
    by: str | None = None
    channel: ApprovalChannel | None = None
    reason: str | None = None

    @property
    def waited_seconds(self) -> float:
        """How long the run waited for the answer."""
        return max(0.0, (self.decided_at - self.requested_at).total_seconds())


class ActionRecord(BaseModel):
    """One planned step as the report shows it, with its result once known."""

    key: str
    kind: ActionKind
    phase: Phase
    description: str
    blast_radius: str
    needs_approval: bool
    diff: list[str] = Field(default_factory=list)
    status: ActionStatus = ActionStatus.PLANNED
    detail: str | None = None
    finished_at: datetime | None = None

    @classmethod
    def of(cls, action: Action) -> ActionRecord:
        """The record of a planned step."""
        diff: tuple[str, ...] = ()
        if isinstance(action, PatchServiceSelector | PatchServiceTargetPort):
            diff = action.diff()
        return cls(
            key=action.key,
            kind=action.kind,
            phase=action.phase,
            description=action.description,
            blast_radius=str(action.blast_radius),
            needs_approval=action.needs_approval,
            diff=list(diff),
        )


class PhaseRecord(BaseModel):
    """When a phase of the checklist started and ended."""

    phase: Phase
    started_at: datetime
    finished_at: datetime | None = None

    @property
    def seconds(self) -> float | None:
        """The phase's duration, once it ended."""
        if self.finished_at is None:
            return None
        return max(0.0, (self.finished_at - self.started_at).total_seconds())


class RunRecord(BaseModel):
    """Everything one checklist run saw, decided, asked and did."""

    model_config = ConfigDict(validate_assignment=True)

    parameters: ChecklistParameters
    started_at: datetime
    runbook: str | None = None
    flow_run_id: str | None = None
    alert: AlertInfo | None = None
    findings: list[Finding] = Field(default_factory=list)
    actions: list[ActionRecord] = Field(default_factory=list)
    notes: list[Note] = Field(default_factory=list)
    deferred_nodes: list[str] = Field(default_factory=list)
    approvals: list[ApprovalRecord] = Field(default_factory=list)
    phases: list[PhaseRecord] = Field(default_factory=list)
    finished_at: datetime | None = None
    outcome: Outcome | None = None
    outcome_detail: str | None = None

    def record_plan(self, plan: Plan) -> None:
        """Keep the plan's steps (as planned), notes and deferred nodes."""
        self.actions = [ActionRecord.of(action) for action in plan.actions]
        self.notes = list(plan.notes)
        self.deferred_nodes = list(plan.deferred_nodes)

    def record_result(
        self, key: str, status: ActionStatus, *, at: datetime, detail: str | None = None
    ) -> None:
        """Set the result of the step `key`; raises KeyError for a step not in the plan."""
        record = next((a for a in self.actions if a.key == key), None)
        if record is None:
            raise KeyError(f"no planned step {key!r}")
        record.status, record.detail, record.finished_at = status, detail, at

    def start_phase(self, phase: Phase, *, at: datetime) -> None:
        """Note that `phase` began (ending the one before, if still open)."""
        for open_phase in (p for p in self.phases if p.finished_at is None):
            open_phase.finished_at = at
        self.phases.append(PhaseRecord(phase=phase, started_at=at))

    def end_phase(self, *, at: datetime) -> None:
        """Note that the open phase ended (its steps are done; a wait may follow)."""
        for open_phase in (p for p in self.phases if p.finished_at is None):
            open_phase.finished_at = at

    def finish(self, outcome: Outcome, *, at: datetime, detail: str | None = None) -> None:
        """End the run (and its open phase) with its outcome."""
        for open_phase in (p for p in self.phases if p.finished_at is None):
            open_phase.finished_at = at
        self.finished_at, self.outcome, self.outcome_detail = at, outcome, detail

    def human_wait_seconds(self, phase: Phase | None = None) -> float:
        """Time spent waiting for approvals, in `phase` or in all."""
        return sum(a.waited_seconds for a in self.approvals if phase is None or a.phase is phase)

    @property
    def total_seconds(self) -> float | None:
        """The run's wall-clock duration, once it ended."""
        if self.finished_at is None:
            return None
        return max(0.0, (self.finished_at - self.started_at).total_seconds())
