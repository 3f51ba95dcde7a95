"""The rollback's report: outcome, revisions and image changes, diff, approval and steps."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from flows.approval import Channel, Decision, StepStatus
from flows.approval.models import clock_time
from flows.rollback.record import Outcome, RollbackRecord
from flows.rollback.report import backup_key, render_report, report_key
from flows.run_record import ApprovalRecord

STARTED = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
RUN_ID = "0f4c9a1e-5b7d-4e2a-9c3b-2d1e0f9a8b7c"
OLD_IMAGE = "registry.k8s.io/kube-proxy:v1.30.1"
NEW_IMAGE = "registry.k8s.io/kube-proxy:v1.30.2"


def record(**fields: object) -> RollbackRecord:
    """A record of a run on kube-system/kube-proxy, with ``fields`` set."""
    return RollbackRecord.model_validate(
        {
            "flow_run_id": RUN_ID,
            "daemon_set": "kube-system/kube-proxy",
            "started_at": STARTED,
            **fields,
        }
    )


def finished_record() -> RollbackRecord:
    """A run that rolled kube-proxy back from revision 2 to 1, approved, with two steps."""
    done = record(
        from_revision=2,
        to_revision=1,
        image_changes=[f"kube-proxy: {NEW_IMAGE} -> {OLD_IMAGE}"],
        diff=["--- current", "+++ rollback", "@@ -1,1 +1,1 @@", f"-  image: {NEW_IMAGE}"],
        approval=ApprovalRecord(
            decision=Decision.APPROVED,
            by="alice",
            channel=Channel.PREFECT_UI,
            reason="crash loop on every node",
            requested_at=STARTED + timedelta(seconds=5),
            decided_at=STARTED + timedelta(minutes=2),
        ),
    )
    done.add_step("backup", StepStatus.DONE, "DaemonSet and ConfigMap saved", at=STARTED)
    done.add_step("rollout", StepStatus.DONE, "3/3 updated", at=STARTED + timedelta(minutes=3))
    done.finish(
        Outcome.ROLLED_BACK,
        "kube-proxy runs revision 1 on 3/3 nodes",
        at=STARTED + timedelta(minutes=4),
    )
    return done


def test_the_report_shows_the_outcome_line_with_its_detail() -> None:
    lines = render_report(finished_record()).splitlines()

    assert lines[0] == "# kube-proxy rollback: kube-system/kube-proxy"
    assert "**Outcome: rolled_back**: kube-proxy runs revision 1 on 3/3 nodes" in lines


def test_a_report_before_the_outcome_says_in_progress() -> None:
    report = render_report(record())

    assert "**Outcome: in progress**" in report.splitlines()


def test_the_report_shows_the_revisions_and_image_changes() -> None:
    lines = render_report(finished_record()).splitlines()

    assert "- revision 2 -> 1" in lines
    assert f"- image kube-proxy: {NEW_IMAGE} -> {OLD_IMAGE}" in lines
    assert "- dry run: no" in lines
    assert "- started: 2024-05-01 12:00:00 UTC" in lines


@pytest.mark.parametrize(
    ("fields", "absent"),
    [
        pytest.param({"from_revision": 2}, "- revision", id="no-target-revision"),
        pytest.param({"flow_run_id": None}, "- backup:", id="no-run-id"),
        pytest.param({}, "## Template change", id="no-diff"),
        pytest.param({}, "## Approval", id="no-approval"),
        pytest.param({}, "## Steps", id="no-steps"),
    ],
)
def test_the_report_leaves_out_what_the_record_does_not_have(
    fields: dict[str, object], absent: str
) -> None:
    assert absent not in render_report(record(**fields))


def test_the_report_points_at_the_backup_artifact() -> None:
    assert f"- backup: artifact `{backup_key(RUN_ID)}`" in render_report(record())


def test_the_report_shows_the_diff_in_a_diff_block() -> None:
    report = render_report(finished_record())

    block = report.split("```diff\n", 1)[1].split("\n```", 1)[0]
    assert block.splitlines() == [
        "--- current",
        "+++ rollback",
        "@@ -1,1 +1,1 @@",
        f"-  image: {NEW_IMAGE}",
    ]


def test_the_report_shows_the_approval_as_a_table_row() -> None:
    lines = render_report(finished_record()).splitlines()

    asked, answered = STARTED + timedelta(seconds=5), STARTED + timedelta(minutes=2)
    assert "| decision | by | channel | asked | answered | waited | reason |" in lines
    assert (
        f"| approved | alice | prefect_ui | {clock_time(asked)} | {clock_time(answered)} "
        "| 1m 55s | crash loop on every node |"
    ) in lines


def test_the_report_shows_each_step_as_a_table_row_in_order() -> None:
    lines = render_report(finished_record()).splitlines()

    steps = lines[lines.index("| step | status | at | detail |") + 2 :]
    assert steps == [
        "| backup | done | 2024-05-01 12:00:00 UTC | DaemonSet and ConfigMap saved |",
        "| rollout | done | 2024-05-01 12:03:00 UTC | 3/3 updated |",
    ]


def test_a_dry_run_report_says_so() -> None:
    assert "- dry run: yes" in render_report(record(dry_run=True)).splitlines()


@pytest.mark.parametrize(
    ("key", "expected"),
    [(report_key, f"rollback-report-{RUN_ID}"), (backup_key, f"rollback-backup-{RUN_ID}")],
    ids=["report", "backup"],
)
def test_artifact_keys_embed_the_run_id(key: Callable[[str], str], expected: str) -> None:
    assert key(RUN_ID) == expected
