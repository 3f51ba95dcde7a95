"""What every flow's report records: its steps and the approval, as models and markdown tables."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from enum import StrEnum
from typing import Any

from prefect.client.schemas.objects import State
from pydantic import BaseModel, Field

from flows.approval import Approval


class StepStatus(StrEnum):
    """How one step ended."""

    DONE = "done"
    SKIPPED = "skipped"
    FAILED = "failed"


class Step(BaseModel):
    """One step of a run: what, how it ended, when, and the evidence."""

    name: str
    status: StepStatus
    detail: str
    at: datetime


class ApprovalLine(BaseModel):
    """The answer to a run's approval request (or the policy's, when none was needed)."""

    decision: str
    by: str
    channel: str
    reason: str = ""
    requested_at: datetime
    decided_at: datetime


class FlowRecord(BaseModel):
    """What every flow that changes the cluster records; kept across its approval pause."""

    flow_run_id: str | None
    started_at: datetime
    dry_run: bool = False
    approval: ApprovalLine | None = None
    steps: list[Step] = Field(default_factory=list)
    outcome_detail: str | None = None

    def add_step(self, name: str, status: StepStatus, detail: str, *, at: datetime) -> None:
        """Record a finished step."""
        self.steps.append(Step(name=name, status=status, detail=detail, at=at))


#: How a flow's outcome ends its run: the kind of final state (Completed, Cancelled, Failed)
#: and the state's name shown in the Prefect UI.
FinalState = tuple[Callable[..., State[Any]], str]


def final_state(ending: FinalState, outcome: str, detail: str | None) -> State[Any]:
    """The run's final state for ``outcome``, with ``outcome: detail`` as its message."""
    kind, name = ending
    return kind(name=name, message=outcome + (f": {detail}" if detail else ""))


def answered(approval: Approval) -> ApprovalLine:
    """The line for a request a human (or the engine's timeout) answered."""
    answer = approval.answer
    return ApprovalLine(
        decision=answer.decision.value,
        by=answer.by,
        channel=answer.channel.value,
        reason=answer.reason,
        requested_at=approval.request.requested_at,
        decided_at=answer.decided_at,
    )


def approved_by_policy(now: datetime, *, drill: bool) -> ApprovalLine:
    """The line for changes the runbook's policy approves without asking."""
    return ApprovalLine(
        decision="approved",
        by="runbook policy",
        channel="drill" if drill else "policy",
        reason="the policy approves these changes automatically",
        requested_at=now,
        decided_at=now,
    )


def approval_table(line: ApprovalLine) -> list[str]:
    """The report's approval section."""
    return [
        "## Approval",
        "",
        "| decision | by | channel | asked | answered | reason |",
        "| --- | --- | --- | --- | --- | --- |",
        f"| {line.decision} | {line.by} | {line.channel} | {line.requested_at.isoformat()} | "
        f"{line.decided_at.isoformat()} | {line.reason} |",
    ]


def steps_table(steps: list[Step]) -> list[str]:
    """The report's steps section."""
    return [
        "## Steps",
        "",
        "| step | status | at | detail |",
        "| --- | --- | --- | --- |",
        *(
            f"| {step.name} | {step.status.value} | {step.at.isoformat()} | {step.detail} |"
            for step in steps
        ),
    ]
