"""What the retention flow deletes from Prefect and what it keeps, and its tally (pure).

Prefect keeps every run, log, artifact and Variable until something deletes them, so a running
engine's database only grows. Past a cut-off (``RUNBOOKS_RETENTION_DAYS``, 30 by default), the
retention flow deletes:

- finished runs of the engine's deployments (those tagged `PRODUCT_TAG`) that ended before it.
  Prefect deletes a run's states, task runs (and theirs) and inputs with it, and its logs
  moments later (a background task of the server); artifacts have no link to their run in the
  database, so the flow deletes them itself: all of a deleted run's artifacts except, by
  default, the latest version of each key, which is the run's report (``<flow>-report-<run
  id>``, published once and updated in place), a rollback's backup, or the current health
  check. So the reports of deleted runs stay readable (and links to them work), at 5 to 13 KB a
  run kept for good; ``keep_reports`` false (``RUNBOOKS_RETENTION_KEEP_REPORTS``) deletes them
  with their runs.
- the receiver's alert-resolution Variables created before it: they matter only while runs of
  their alert episode are going.
- incident markers older than an hour whose owner run has ended or is gone: an engine that died
  left them (an owner deletes its own when it ends).

A run that has not finished (Scheduled, Pending, Running, Paused or Suspended, Cancelling) is
never deleted however old, nor a marker whose owner has not.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

#: The tag every deployment the engine registers carries (engine/deployments.py): the retention
#: flow deletes runs of those deployments only.
#: Prefect's final state types: a run in one of them is over and may be deleted.
FINAL_STATE_TYPES = ("COMPLETED", "FAILED", "CANCELLED", "CRASHED")
#: The other state types: a run in one of them is kept however old.
UNFINISHED_STATE_TYPES = ("SCHEDULED", "PENDING", "RUNNING", "PAUSED", "CANCELLING")
#: How old an incident marker of an ended run must be before it is deleted: its owner may have
#: only just ended, and the ledger takes such markers over itself anyway.
MARKER_GRACE = timedelta(hours=1)
#: Records read or deleted per call: one call never holds Prefect's database for long.
PAGE = 200
#: Runs one pass deletes at most (and Variables): the rest wait for the next day's run.
MAX_RUNS = 10_000


class RetentionSettingError(ValueError):
    """The retention age is not a whole number of days of at least one."""


@dataclass(frozen=True, slots=True)
class Cutoffs:
    """The moments that decide what is old, from the flow's clock.

    Attributes:
        now: The flow's time (its runtime's clock).
        days: The retention age, in days.
    """

    now: datetime
    days: int

    def __post_init__(self) -> None:
        if self.days < 1:
            raise RetentionSettingError(
                f"the retention age must be at least 1 day (RUNBOOKS_RETENTION_DAYS), "
                f"got {self.days}"
            )

    @property
    def age(self) -> str:
        """The retention age as people read it: ``1 day``, ``30 days``."""
        return f"{self.days} day" if self.days == 1 else f"{self.days} days"

    @property
    def records(self) -> datetime:
        """Runs that ended, and resolution Variables created, before this are deleted."""
        return self.now - timedelta(days=self.days)

    @property
    def markers(self) -> datetime:
        """An ended owner's incident marker created before this is deleted."""
        return self.now - MARKER_GRACE


def resolution_expired(created: datetime | None, cutoffs: Cutoffs) -> bool:
    """Whether an alert-resolution Variable created at `created` is past the retention age."""
    return created is not None and created < cutoffs.records


def marker_stale(created: datetime | None, *, owner_ended: bool, cutoffs: Cutoffs) -> bool:
    """Whether an incident marker is left behind: its owner ended and it is over an hour old."""
    return owner_ended and created is not None and created < cutoffs.markers


@dataclass(frozen=True, slots=True)
class StoredArtifact:
    """One artifact of a run about to be deleted.

    Attributes:
        id: Its id (a string: this module knows nothing of Prefect's types).
        key: Its key; None for an artifact without one.
        latest: It is the latest version of its key (Prefect's "latest" artifact).
    """

    id: str
    key: str | None
    latest: bool


def split_artifacts(
    artifacts: Iterable[StoredArtifact], *, keep_reports: bool
) -> tuple[list[StoredArtifact], list[StoredArtifact]]:
    """The artifacts to delete and those kept: the latest version of each key, when keeping."""
    doomed: list[StoredArtifact] = []
    kept: list[StoredArtifact] = []
    for artifact in artifacts:
        (kept if keep_reports and artifact.key and artifact.latest else doomed).append(artifact)
    return doomed, kept


@dataclass(frozen=True, slots=True)
class Deletion:
    """What one deletion step did: records deleted, and those already gone (a 404)."""

    deleted: int = 0
    already_gone: int = 0

    def __add__(self, other: Deletion) -> Deletion:
        return Deletion(self.deleted + other.deleted, self.already_gone + other.already_gone)


@dataclass
class Tally:
    """What one retention run deleted and kept, by kind (what it would delete, in a dry run).

    Attributes:
        cutoffs: What counted as old.
        dry_run: Nothing was deleted: the counts are what a run would delete.
        keep_reports: The latest version of each key of a deleted run was kept.
        max_runs: The cap on runs (and on Variables) deleted in one run.
        runs: Finished runs deleted, by state type (``Completed``, ``Failed``, ...).
        task_runs: Their task runs (deleted with them).
        artifacts: Their artifacts deleted.
        reports_kept: Their artifacts kept (the latest version of each key).
        resolutions: Alert-resolution Variables deleted.
        resolutions_kept: Those younger than the retention age.
        markers: Incident markers deleted.
        markers_kept: Those whose owner has not ended, or younger than an hour.
        unfinished_kept: Runs past the cut-off that have not finished (never deleted).
        recent_kept: Finished runs that ended since the cut-off.
        runs_left: Finished runs past the cut-off left for the next run (the cap).
        resolutions_capped: The cap stopped the resolution Variables' pass.
        already_gone: Records gone between this run's read and its delete (another client
            deleted them), or runs no longer finished by then (left alone).
        error: Why the run stopped early, if it did.
    """

    cutoffs: Cutoffs
    dry_run: bool
    keep_reports: bool
    max_runs: int
    runs: Counter[str] = field(default_factory=Counter)
    task_runs: int = 0
    artifacts: int = 0
    reports_kept: int = 0
    resolutions: int = 0
    resolutions_kept: int = 0
    markers: int = 0
    markers_kept: int = 0
    unfinished_kept: int = 0
    recent_kept: int = 0
    runs_left: int = 0
    resolutions_capped: bool = False
    already_gone: int = 0
    error: str | None = None

    @property
    def runs_deleted(self) -> int:
        """Finished runs deleted (or that would be, in a dry run)."""
        return sum(self.runs.values())

    def summary(self) -> str:
        """One line for the run's state message."""
        verb = "would delete" if self.dry_run else "deleted"
        line = (
            f"{verb} {self.runs_deleted} runs, {self.artifacts} artifacts, "
            f"{self.resolutions} resolution Variables, {self.markers} incident markers "
            f"older than {self.cutoffs.age}"
        )
        if self.keep_reports:
            line += f"; kept {self.reports_kept} reports of deleted runs"
        if self.runs_left:
            line += f"; {self.runs_left} older runs left for the next run (cap {self.max_runs})"
        return line
