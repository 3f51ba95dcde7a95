"""Unit tests of `flows.maintenance.retention`: what is old, what is kept, the retention report."""

from __future__ import annotations

import dataclasses
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from flows.maintenance.report import render_retention_report
from flows.maintenance.retention import (
    Cutoffs,
    RetentionSettingError,
    StoredArtifact,
    Tally,
    marker_stale,
    resolution_expired,
    split_artifacts,
)
from flows.settings import FlowSettings

NOW = datetime(2025, 3, 1, 3, 30, tzinfo=UTC)
CUTOFFS = Cutoffs(now=NOW, days=30)


def test_the_cut_off_is_the_retention_age_before_the_flows_clock() -> None:
    assert CUTOFFS.records == datetime(2025, 1, 30, 3, 30, tzinfo=UTC)
    assert CUTOFFS.markers == datetime(2025, 3, 1, 2, 30, tzinfo=UTC)


def test_a_retention_age_under_a_day_is_refused_naming_the_setting() -> None:
    with pytest.raises(RetentionSettingError, match="RUNBOOKS_RETENTION_DAYS"):
        Cutoffs(now=NOW, days=0)


def test_the_retention_age_is_read_from_its_variable_30_days_when_unset(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("RUNBOOKS_RETENTION_DAYS", raising=False)
    assert FlowSettings().retention_days == 30

    monkeypatch.setenv("RUNBOOKS_RETENTION_DAYS", "7")
    assert FlowSettings().retention_days == 7


def test_keeping_reports_is_read_from_its_variable_true_when_unset(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("RUNBOOKS_RETENTION_KEEP_REPORTS", raising=False)
    assert FlowSettings().retention_keep_reports is True

    monkeypatch.setenv("RUNBOOKS_RETENTION_KEEP_REPORTS", "false")
    assert FlowSettings().retention_keep_reports is False


@pytest.mark.parametrize("days", ["0", "-3"])
def test_a_retention_age_under_a_day_is_an_error_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, days: str
) -> None:
    monkeypatch.setenv("RUNBOOKS_RETENTION_DAYS", days)

    with pytest.raises(
        ValidationError, match=f"RUNBOOKS_RETENTION_DAYS must be at least 1.*{days}"
    ):
        FlowSettings()


def test_a_resolution_record_expires_once_older_than_the_retention_age() -> None:
    assert resolution_expired(CUTOFFS.records - timedelta(seconds=1), CUTOFFS)
    assert not resolution_expired(CUTOFFS.records + timedelta(seconds=1), CUTOFFS)
    assert not resolution_expired(None, CUTOFFS)


@pytest.mark.parametrize(
    ("age", "owner_ended", "stale"),
    [
        (timedelta(hours=2), True, True),
        (timedelta(minutes=30), True, False),  # its owner may have only just ended
        (timedelta(days=90), False, False),  # an owner awaiting approval for months keeps it
    ],
)
def test_a_marker_is_stale_once_its_owner_ended_and_it_is_over_an_hour_old(
    age: timedelta, owner_ended: bool, stale: bool
) -> None:
    assert marker_stale(NOW - age, owner_ended=owner_ended, cutoffs=CUTOFFS) is stale


def test_the_latest_version_of_each_key_is_kept_unless_reports_go_too() -> None:
    report = StoredArtifact("1", "checklist-report-abc", latest=True)
    older = StoredArtifact("2", "cluster-health-check", latest=False)
    keyless = StoredArtifact("3", None, latest=False)

    assert split_artifacts([report, older, keyless], keep_reports=True) == (
        [older, keyless],
        [report],
    )
    assert split_artifacts([report, older, keyless], keep_reports=False) == (
        [report, older, keyless],
        [],
    )


def tally(**counts: Any) -> Tally:
    """A run's tally: 30 days, not a dry run, reports kept, with these counts."""
    done = Tally(cutoffs=CUTOFFS, dry_run=False, keep_reports=True, max_runs=10_000)
    return dataclasses.replace(done, **counts)


def test_the_report_says_what_was_deleted_and_kept_by_kind_with_counts() -> None:
    report = render_retention_report(
        tally(
            runs=Counter({"Completed": 120, "Failed": 3}),
            task_runs=480,
            artifacts=12,
            reports_kept=123,
            resolutions=87,
            resolutions_kept=40,
            markers=1,
            markers_kept=2,
            unfinished_kept=4,
            recent_kept=1234,
        )
    )

    assert report.startswith("# Prefect retention: older than 30 days\n")
    assert "Cut-off: 2025-01-30T03:30+00:00. Runs of the deployments tagged" in report
    assert "## Deleted\n" in report
    assert "| finished runs that ended before the cut-off | 123 | Completed 120, Failed 3 |" in (
        report
    )
    assert "| their task runs | 480 |" in report
    assert "| their artifacts | 12 | all but the latest version of each key |" in report
    assert "| alert-resolution Variables | 87 | created before the cut-off |" in report
    assert "| incident markers | 1 | over an hour old, their owner run ended |" in report
    kept = report.split("## Kept", 1)[1]
    assert "| reports of the deleted runs | 123 |" in kept
    assert "| unfinished runs older than the cut-off | 4 |" in kept
    assert "| finished runs since the cut-off | 1234 |" in kept
    assert "| alert-resolution Variables | 40 | created since the cut-off |" in kept
    assert "| incident markers | 2 |" in kept
    assert "Dry run" not in report


def test_a_dry_runs_report_says_nothing_was_deleted() -> None:
    report = render_retention_report(tally(dry_run=True, runs=Counter({"Completed": 2})))

    assert "## Would delete\n" in report
    assert "**Dry run: nothing was deleted.**" in report


def test_without_keeping_reports_the_report_says_they_went_with_their_runs() -> None:
    report = render_retention_report(tally(keep_reports=False, artifacts=5))

    assert "| their artifacts | 5 | all of them, reports included |" in report
    assert "| reports of the deleted runs |" not in report
    assert "The reports of the deleted runs went with them." in report


def test_the_report_says_what_the_cap_left_for_the_next_run() -> None:
    report = render_retention_report(
        tally(max_runs=200, runs=Counter({"Completed": 200}), runs_left=50)
    )

    assert "Stopped at the cap of 200 runs: 50 older finished runs are left for the next run." in (
        report
    )


def test_the_summary_is_one_line_of_counts() -> None:
    done = tally(runs=Counter({"Completed": 2, "Crashed": 1}), artifacts=1, resolutions=4)

    assert done.summary() == (
        "deleted 3 runs, 1 artifacts, 4 resolution Variables, 0 incident markers older than "
        "30 days; kept 0 reports of deleted runs"
    )
    assert tally(dry_run=True).summary().startswith("would delete 0 runs")
