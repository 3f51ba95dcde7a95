"""Unit tests of `flows.rollback.record` and `flows.rollback.report`: final state and report."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from prefect.client.schemas.objects import StateType

from flows.rollback.record import Outcome, RollbackRecord, outcome_state
from flows.rollback.report import backup_key, render_report, report_key
from flows.run_record import ApprovalLine, StepStatus

STARTED = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
RUN_ID = "0f4c9a1e-5b7d-4e2a-9c3b-2d1e0f9a8b7c"
OLD_IMAGE = "registry.k8s.io/kube-proxy:v1.30.1"
NEW_IMAGE = "registry.k8s.io/kube-proxy:v1.30.2"

#: Every outcome's state: its type and name. A new Outcome member without a row here fails.
EXPECTED_STATES = {
    Outcome.ROLLED_BACK: (StateType.COMPLETED, "RolledBack"),
    Outcome.NOTHING_TO_DO: (StateType.COMPLETED, "NothingToDo"),
    Outcome.DRY_RUN: (StateType.COMPLETED, "DryRun"),
    Outcome.REJECTED: (StateType.CANCELLED, "Rejected"),
    Outcome.APPROVAL_TIMED_OUT: (StateType.CANCELLED, "ApprovalTimedOut"),
    Outcome.SUPERSEDED: (StateType.CANCELLED, "Superseded"),
    Outcome.RESTORED: (StateType.FAILED, "RolloutFailedRestored"),
    Outcome.RESTORE_FAILED: (StateType.FAILED, "RestoreFailed"),
    Outcome.FAILED: (StateType.FAILED, "Failed"),
}


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
        approval=ApprovalLine(
            decision="approve",
            by="alice",
            channel="prefect-ui",
            reason="crash loop on every node",
            requested_at=STARTED + timedelta(seconds=5),
            decided_at=STARTED + timedelta(minutes=2),
        ),
    )
    done.add_step("backup", StepStatus.DONE, "DaemonSet and ConfigMap saved", at=STARTED)
    done.add_step("rollout", StepStatus.DONE, "3/3 updated", at=STARTED + timedelta(minutes=3))
    done.finish(Outcome.ROLLED_BACK, "kube-proxy runs revision 1 on 3/3 nodes")
    return done


def test_every_outcome_has_an_expected_state() -> None:
    assert set(EXPECTED_STATES) == set(Outcome)


@pytest.mark.parametrize("outcome", list(Outcome), ids=[o.name for o in Outcome])
def test_each_outcome_maps_to_a_named_state_with_the_detail_as_message(
    outcome: Outcome,
) -> None:
    run = record()
    run.finish(outcome, "the detail")

    state = outcome_state(run)

    assert (state.type, state.name) == EXPECTED_STATES[outcome]
    assert state.message == f"{outcome.value}: the detail"


def test_an_outcome_without_detail_has_the_outcome_alone_as_message() -> None:
    run = record(outcome=Outcome.NOTHING_TO_DO)

    assert outcome_state(run).message == "nothing_to_do"


def test_a_record_without_an_outcome_ends_failed() -> None:
    state = outcome_state(record())

    assert (state.type, state.name, state.message) == (StateType.FAILED, "Failed", "failed")


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
    assert f"- started: {STARTED.isoformat()}" in lines


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
    assert "| decision | by | channel | asked | answered | reason |" in lines
    assert (
        f"| approve | alice | prefect-ui | {asked.isoformat()} | {answered.isoformat()} "
        "| crash loop on every node |"
    ) in lines


def test_the_report_shows_each_step_as_a_table_row_in_order() -> None:
    lines = render_report(finished_record()).splitlines()

    steps = lines[lines.index("| step | status | at | detail |") + 2 :]
    assert steps == [
        f"| backup | done | {STARTED.isoformat()} | DaemonSet and ConfigMap saved |",
        f"| rollout | done | {(STARTED + timedelta(minutes=3)).isoformat()} | 3/3 updated |",
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
