"""What every flow that changes the cluster records: its approval, its outcome, its steps (pure)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from enum import StrEnum
from typing import Generic, TypeVar

from pydantic import BaseModel, Field, PrivateAttr

from flows.approval.models import Approval, Channel, Decision, StepNote, StepStatus

OutcomeT = TypeVar("OutcomeT", bound=StrEnum)


class Ending(StrEnum):
    """How a change run may end whatever its flow; every flow's outcomes include these values."""

    NOTHING_TO_DO = "nothing_to_do"
    DRY_RUN = "dry_run"
    REJECTED = "rejected"
    APPROVAL_TIMED_OUT = "approval_timed_out"
    FAILED = "failed"


class Step(BaseModel):
    """One step of a run: what, how it ended, when, and the evidence."""

    name: str
    status: StepStatus
    detail: str
    at: datetime


class ApprovalRecord(BaseModel):
    """The answer to a run's approval request (or the policy's, when none was needed)."""

    decision: Decision
    by: str
    channel: Channel
    reason: str = ""
    requested_at: datetime
    decided_at: datetime

    @property
    def waited_seconds(self) -> float:
        """How long the run waited for the answer."""
        return max(0.0, (self.decided_at - self.requested_at).total_seconds())


class FlowRecord(BaseModel, Generic[OutcomeT]):
    """What every flow that changes the cluster records; kept across its approval pause."""

    flow_run_id: str | None = None
    started_at: datetime
    approval: ApprovalRecord | None = None
    finished_at: datetime | None = None
    outcome: OutcomeT | None = None
    outcome_detail: str | None = None
    _listener: Callable[[StepNote], None] | None = PrivateAttr(default=None)

    def listen(self, listener: Callable[[StepNote], None]) -> None:
        """Tell ``listener`` each step as the record notes it (not kept with the record)."""
        self._listener = listener

    def tell(self, note: StepNote) -> None:
        """Tell the listener, if any, about a step just noted."""
        if self._listener is not None:
            self._listener(note)

    @property
    def outcome_text(self) -> str:
        """The outcome's value, or ``in progress`` while there is none."""
        return "in progress" if self.outcome is None else self.outcome.value

    def finish(self, outcome: OutcomeT, detail: str | None = None, *, at: datetime) -> None:
        """Record how the run ended, and when."""
        self.finished_at, self.outcome, self.outcome_detail = at, outcome, detail

    def note_error(self, detail: str, *, at: datetime) -> None:
        """Note the error that stops the run (a record of steps logs it as one; this one not)."""
        del detail, at


class StepsRecord(FlowRecord[OutcomeT], Generic[OutcomeT]):
    """A change run recorded as the list of its steps (the rollback, the conntrack cleanup)."""

    dry_run: bool = False
    steps: list[Step] = Field(default_factory=list)

    def add_step(self, name: str, status: StepStatus, detail: str, *, at: datetime) -> None:
        """Record a finished step (and tell the listener)."""
        self.steps.append(Step(name=name, status=status, detail=detail, at=at))
        self.tell(
            StepNote(
                key=f"{len(self.steps)}-{name}",
                text=f"{name}: {detail}" if detail else name,
                status=status,
                at=at,
            )
        )

    def note_error(self, detail: str, *, at: datetime) -> None:
        """Log the error that stops the run as a failed step."""
        self.add_step("error", StepStatus.FAILED, detail, at=at)


def answered(approval: Approval) -> ApprovalRecord:
    """The record of a request a human (or the engine's timeout) answered."""
    answer = approval.answer
    return ApprovalRecord(
        decision=answer.decision,
        by=answer.by,
        channel=answer.channel,
        reason=answer.reason,
        requested_at=approval.request.requested_at,
        decided_at=answer.decided_at,
    )


def approved_by_policy(now: datetime, *, drill: bool) -> ApprovalRecord:
    """The record of changes the runbook's policy approves without asking."""
    return ApprovalRecord(
        decision=Decision.APPROVED,
        by="runbook policy",
        channel=Channel.DRILL if drill else Channel.POLICY,
        reason="the policy approves these changes automatically",
        requested_at=now,
        decided_at=now,
    )
