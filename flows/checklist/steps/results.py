"""What the checklist's tasks hand back to the flow (small, frozen, picklable for persistence)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flows.checklist.findings import Finding
from flows.checklist.plans import Plan
from flows.checklist.record import ActionStatus


@dataclass(frozen=True, slots=True, kw_only=True)
class Assessment:
    """Minute 1's result: the findings and the plan (persisted: a re-run acts on this plan).

    Attributes:
        findings: The diagnosis.
        plan: The plan approved or not; re-runs after an approval reuse it unchanged.
        emergency_service: The Service's emergency NodePort Service, when one exists.
        observed_at: When the cluster was read.
    """

    findings: tuple[Finding, ...]
    plan: Plan
    emergency_service: str | None
    observed_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class StepResult:
    """The result of one step, as the report shows it.

    Attributes:
        status: Done, skipped (and why), failed, or dry run.
        detail: What was done or seen, or why not.
        finished_at: When the step ended.
        alert_resolved: The step was skipped because the alert resolved.
    """

    status: ActionStatus
    detail: str
    finished_at: datetime
    alert_resolved: bool = False
