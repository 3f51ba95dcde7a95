"""The run record the checklist flow fills as it goes, and the report is rendered from (pure)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from flows.approval import Approval, Channel, Decision, StepNote, StepStatus
from flows.checklist.actions import (
    PatchServiceSelector,
    PatchServiceTargetPort,
    Phase,
)
from flows.checklist.findings import Finding
from flows.checklist.notes import Note
from flows.checklist.observation import emergency_service_name
from flows.checklist.parameters import ChecklistParameters
from flows.checklist.plan import Action, Mutation, Plan
from flows.run_record import ApprovalRecord, FlowRecord, answered
from runbooks.approval import ActionKind


class Outcome(StrEnum):
    """How a checklist run ended."""

    RECOVERED = "recovered"
    PARTIALLY_MITIGATED = "partially_mitigated"
    NOT_RECOVERED = "not_recovered"
    NOTHING_TO_DO = "nothing_to_do"
    SCALED_TO_ZERO = "scaled_to_zero"
    ROLLOUT_IN_PROGRESS = "rollout_in_progress"
    PODS_UNSCHEDULABLE = "pods_unschedulable"
    REJECTED = "rejected"
    APPROVAL_TIMED_OUT = "approval_timed_out"
    ALERT_RESOLVED = "alert_resolved"
    DRY_RUN = "dry_run"
    FAILED = "failed"
    JOINED_INCIDENT = "joined_incident"
    """Another run already works on this alert's cause (kube-proxy): it answers for this one."""


class ActionStatus(StrEnum):
    """What became of one planned step."""

    PLANNED = "planned"
    DONE = "done"
    SKIPPED = "skipped"
    FAILED = "failed"
    DRY_RUN = "dry_run"


class AlertInfo(BaseModel):
    """The alert that started the run."""

    alertname: str | None = None
    fingerprint: str | None = None
    starts_at: datetime | None = None
    labels: dict[str, str] = Field(default_factory=dict)


class StepsApproval(ApprovalRecord):
    """The checklist's approval: the answer, the steps it covered, and the phase that waited."""

    action_keys: list[str]
    phase: Phase

    @classmethod
    def answering(cls, approval: Approval, steps: Sequence[Mutation]) -> StepsApproval:
        """The record of ``approval``: the answer to the request for ``steps``."""
        return cls.model_validate(
            {
                **answered(approval).model_dump(),
                "action_keys": [step.key for step in steps],
                "phase": steps[0].phase,
            }
        )

    @classmethod
    def drill(cls, steps: Sequence[Mutation], *, at: datetime) -> StepsApproval:
        """The record of ``steps`` approved without asking: a drill the runbook allows."""
        return cls(
            decision=Decision.APPROVED,
            by="runbook policy",
            channel=Channel.DRILL,
            reason="drill: the runbook approves drills automatically",
            requested_at=at,
            decided_at=at,
            action_keys=[step.key for step in steps],
            phase=steps[0].phase,
        )


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


class IncidentRole(StrEnum):
    """A run's part in an incident on a shared object."""

    OWNER = "owner"
    """It plans, asks for and makes the shared change, and verifies every joined target."""
    JOINED = "joined"
    """It left the shared change to the owner, which verifies its target."""


class CoveredAlert(BaseModel):
    """One alert an incident answered for, as the owner's report lists it.

    Attributes:
        alertname: The alert's name.
        fingerprint: Alertmanager's fingerprint.
        target: ``namespace/service``, a node, or the cluster.
        fired_at: When the episode started firing.
        joined_at: When it joined the incident.
        via: How it joined: ``alert`` (no run was started) or the run that joined.
        verification: What the owner found on its target once the change was done.
        verified: Whether that shows the target working.
        resolved_at: When the receiver saw the alert resolve, if it did.
        handled_by: The run that answers for the alert: the owner, or one started for it.
    """

    alertname: str
    fingerprint: str
    target: str
    fired_at: datetime
    joined_at: datetime
    via: str
    verification: str | None = None
    verified: bool | None = None
    resolved_at: datetime | None = None
    handled_by: str


class IncidentRecord(BaseModel):
    """The incident a run took part in.

    Attributes:
        role: Owner or joined.
        shared: The shared object (``kube-proxy``).
        owner: The owner run, as humans read it.
        cause: What the owner found.
        covered: Every other alert the incident answered for (the owner's record only).
    """

    role: IncidentRole
    shared: str
    owner: str
    cause: str
    covered: list[CoveredAlert] = Field(default_factory=list)


class RunRecord(FlowRecord[Outcome]):
    """Everything one checklist run saw, decided, asked and did."""

    model_config = ConfigDict(validate_assignment=True)

    parameters: ChecklistParameters
    runbook: str | None = None
    alert: AlertInfo | None = None
    findings: list[Finding] = Field(default_factory=list)
    actions: list[ActionRecord] = Field(default_factory=list)
    notes: list[Note] = Field(default_factory=list)
    deferred_nodes: list[str] = Field(default_factory=list)
    follow_up: str | None = None
    approval: StepsApproval | None = None
    phases: list[PhaseRecord] = Field(default_factory=list)
    incident: IncidentRecord | None = None

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
        if status in (ActionStatus.DONE, ActionStatus.FAILED, ActionStatus.SKIPPED):
            text = f"{record.description}: {status.value}" + (f" ({detail})" if detail else "")
            self.tell(StepNote(key=key, text=text, status=StepStatus(status.value), at=at))

    def action_status(self, key: str) -> ActionStatus | None:
        """What became of the step `key`; None for a step not in the plan."""
        return next((a.status for a in self.actions if a.key == key), None)

    def start_phase(self, phase: Phase, *, at: datetime) -> None:
        """Note that `phase` began (ending the one before, if still open)."""
        self.end_phase(at=at)
        self.phases.append(PhaseRecord(phase=phase, started_at=at))

    def end_phase(self, *, at: datetime) -> None:
        """Note that the open phase ended (its steps are done; a wait may follow)."""
        for open_phase in (p for p in self.phases if p.finished_at is None):
            open_phase.finished_at = at

    def finish(self, outcome: Outcome, detail: str | None = None, *, at: datetime) -> None:
        """End the run (and its open phase) with its outcome."""
        self.end_phase(at=at)
        super().finish(outcome, detail, at=at)

    def human_wait_seconds(self, phase: Phase | None = None) -> float:
        """Time spent waiting for the approval, in `phase` or in all."""
        approval = self.approval
        if approval is None or (phase is not None and approval.phase is not phase):
            return 0.0
        return approval.waited_seconds

    @property
    def total_seconds(self) -> float | None:
        """The run's wall-clock duration, once it ended."""
        if self.finished_at is None:
            return None
        return max(0.0, (self.finished_at - self.started_at).total_seconds())


def emergency_removal(namespace: str, service: str, *, detail: str, at: datetime) -> ActionRecord:
    """The record of removing the emergency NodePort Service of ``service`` once it recovered."""
    name = emergency_service_name(service)
    return ActionRecord(
        key=f"remove-emergency:{namespace}/{service}",
        kind=ActionKind.CREATE_EMERGENCY_NODEPORT,
        phase=Phase.VERIFY,
        description=f"Remove the emergency NodePort Service {namespace}/{name}: "
        f"{namespace}/{service} has recovered",
        blast_radius=f"Service {namespace}/{name} (its node ports close)",
        needs_approval=False,
        status=ActionStatus.DONE,
        detail=detail,
        finished_at=at,
    )
