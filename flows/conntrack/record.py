"""What a conntrack cleanup run did, node by node, and how it ended (the report's content)."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from flows.run_record import StepsRecord


class Outcome(StrEnum):
    """How a cleanup run ended."""

    CLEANED = "cleaned"
    NOTHING_TO_DO = "nothing_to_do"
    DRY_RUN = "dry_run"
    REJECTED = "rejected"
    APPROVAL_TIMED_OUT = "approval_timed_out"
    NOT_CLEAN = "entries_remain"
    FAILED = "failed"


class CleanupRecord(StepsRecord[Outcome]):
    """The cleanup run's record, rendered as its report."""

    target: str
    planned: list[str] = Field(default_factory=list)
    unreachable: list[str] = Field(default_factory=list)
