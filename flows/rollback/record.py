"""What a rollback run did, step by step, and how it ended (the report's content)."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from flows.run_record import StepsRecord


class Outcome(StrEnum):
    """How a rollback run ended."""

    ROLLED_BACK = "rolled_back"
    NOTHING_TO_DO = "nothing_to_do"
    DRY_RUN = "dry_run"
    REJECTED = "rejected"
    APPROVAL_TIMED_OUT = "approval_timed_out"
    SUPERSEDED = "superseded"
    KUBE_PROXY_BUSY = "kube_proxy_busy"
    """Another run was changing kube-proxy (restarting its pods): this one changed nothing."""
    ALREADY_IN_PLACE = "already_in_place"
    RESTORED = "restored_after_failed_rollout"
    RESTORE_FAILED = "restore_failed"
    FAILED = "failed"


class RollbackRecord(StepsRecord[Outcome]):
    """The rollback run's record, rendered as its report."""

    daemon_set: str
    from_revision: int | None = None
    to_revision: int | None = None
    image_changes: list[str] = Field(default_factory=list)
    diff: list[str] = Field(default_factory=list)
    target: list[str] = Field(default_factory=list)
    target_warning: str | None = None
    handed_back: list[str] = Field(default_factory=list)
    """The alerts that joined the kube-proxy incident while this run held it, and their runs."""
