"""The cleanup's report: outcome, planned deletions, nodes not looked at, approval, steps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from flows.approval import Channel, Decision, StepStatus
from flows.conntrack.record import CleanupRecord, Outcome
from flows.conntrack.report import render_report, report_key
from flows.run_record import ApprovalRecord, Step

STARTED = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
RUN_ID = "6f1e0a52-4c3b-4d7e-9a21-0b5c8e3f7d10"


def record(**fields: object) -> CleanupRecord:
    """A record of a cleanup of kube-dns started at ``STARTED``, with ``fields`` set."""
    base: dict[str, object] = {
        "flow_run_id": RUN_ID,
        "target": "stale entries of Service kube-system/kube-dns",
        "started_at": STARTED,
    }
    return CleanupRecord.model_validate(base | fields)


def finished(outcome: Outcome, detail: str) -> CleanupRecord:
    result = record()
    result.finish(outcome, detail, at=STARTED + timedelta(minutes=1))
    return result


def test_report_key_embeds_the_run_id() -> None:
    assert report_key(RUN_ID) == f"conntrack-report-{RUN_ID}"
    assert report_key("a") != report_key("b")


@pytest.mark.parametrize(
    ("result", "line"),
    [
        pytest.param(record(), "**Outcome: in progress**", id="before an outcome"),
        pytest.param(
            finished(Outcome.CLEANED, "deleted 4 entries on 2 node(s); none left"),
            "**Outcome: cleaned**: deleted 4 entries on 2 node(s); none left",
            id="cleaned",
        ),
        pytest.param(
            finished(Outcome.NOT_CLEAN, "deleted 3 entries on 1 node(s); 1 still match"),
            "**Outcome: entries_remain**: deleted 3 entries on 1 node(s); 1 still match",
            id="entries remain",
        ),
    ],
)
def test_the_report_states_the_outcome_under_its_title(result: CleanupRecord, line: str) -> None:
    lines = render_report(result).splitlines()

    assert lines[0] == "# conntrack cleanup: stale entries of Service kube-system/kube-dns"
    assert lines[2] == line
    assert "- started: 2024-05-01 12:00:00 UTC" in lines


@pytest.mark.parametrize(("dry_run", "line"), [(True, "- dry run: yes"), (False, "- dry run: no")])
def test_the_report_says_whether_it_was_a_dry_run(dry_run: bool, line: str) -> None:
    assert line in render_report(record(dry_run=dry_run)).splitlines()


def test_the_report_lists_the_planned_changes() -> None:
    planned = [
        "node-a: 3 entries to kube-system/kube-dns (10.96.0.10) answered by 10.244.1.9",
        "node-b: flush 120 entries",
    ]

    report = render_report(record(planned=planned))

    assert f"## Planned\n\n- {planned[0]}\n- {planned[1]}\n" in report


def test_a_report_without_a_plan_has_no_planned_section() -> None:
    assert "## Planned" not in render_report(record())


@pytest.mark.parametrize(
    ("unreachable", "shown"),
    [
        pytest.param([], False, id="every node seen"),
        pytest.param(["node-c: kube-proxy pod kube-proxy-c not Ready"], True, id="one not seen"),
    ],
)
def test_nodes_not_looked_at_are_listed_only_when_there_are_some(
    unreachable: list[str], shown: bool
) -> None:
    report = render_report(record(unreachable=unreachable))

    assert ("## Not looked at" in report) is shown
    assert all(f"- {line}" in report.splitlines() for line in unreachable)


def test_the_report_has_a_row_for_the_approval() -> None:
    approval = ApprovalRecord(
        decision=Decision.REJECTED,
        by="alice",
        channel=Channel.SLACK,
        reason="peak traffic",
        requested_at=STARTED,
        decided_at=STARTED + timedelta(minutes=5),
    )

    lines = render_report(record(approval=approval)).splitlines()

    assert "## Approval" in lines
    assert (
        "| rejected | alice | slack | 2024-05-01 12:00:00 UTC | "
        "2024-05-01 12:05:00 UTC | 5m 00s | peak traffic |"
    ) in lines


def test_a_report_without_an_answer_has_no_approval_section() -> None:
    assert "## Approval" not in render_report(record())


def test_the_report_has_a_row_per_step_in_order() -> None:
    steps = [
        Step(name="assess", status=StepStatus.DONE, detail="4 entries on 2 node(s)", at=STARTED),
        Step(
            name="clean node-b",
            status=StepStatus.FAILED,
            detail="1 still match",
            at=STARTED + timedelta(seconds=30),
        ),
    ]

    lines = render_report(record(steps=steps)).splitlines()

    rows = [line for line in lines if line.startswith("| assess") or line.startswith("| clean")]
    assert rows == [
        "| assess | done | 2024-05-01 12:00:00 UTC | 4 entries on 2 node(s) |",
        "| clean node-b | failed | 2024-05-01 12:00:30 UTC | 1 still match |",
    ]
    assert "## Steps" in lines


def test_the_sections_follow_the_order_of_the_run() -> None:
    result = record(
        planned=["node-a: 1 entries"],
        unreachable=["node-c: not Ready"],
        approval=ApprovalRecord(
            decision=Decision.APPROVED,
            by="runbook policy",
            channel=Channel.POLICY,
            requested_at=STARTED,
            decided_at=STARTED,
        ),
        steps=[Step(name="assess", status=StepStatus.DONE, detail="1 entries", at=STARTED)],
    )

    report = render_report(result)

    headings = [line for line in report.splitlines() if line.startswith("## ")]
    assert headings == ["## Planned", "## Not looked at", "## Approval", "## Steps"]
    assert report.endswith("|\n")
