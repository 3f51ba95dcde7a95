"""The rollback flow's parameters: which revision to go back to, and how boldly to act."""

from __future__ import annotations

from pydantic import BaseModel, Field


class RollbackParameters(BaseModel):
    """What an operator sets when starting a rollback."""

    to_revision: int | None = Field(
        default=None,
        ge=1,
        title="Revision to roll back to",
        description="Revision to roll back to; empty: the previous one.",
    )
    dry_run: bool = Field(
        default=False, title="Dry run", description="Plan and back up only; change nothing."
    )
    auto_approve: bool = Field(
        default=False,
        title="Drill",
        description="A drill: approve automatically where the policy allows drills.",
    )
    approval_timeout_seconds: float | None = Field(
        default=None,
        gt=0,
        le=86400,
        title="Approval timeout (seconds)",
        description="How long to wait for approval (then reject); empty: the runbook's.",
    )
    rollout_timeout_seconds: float = Field(
        default=300,
        gt=0,
        le=3600,
        title="Rollout timeout (seconds)",
        description="How long the rollout may take before the rollback is undone.",
    )
