"""The report parts every change run shares: the outcome line, the approval and steps tables."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from enum import StrEnum

import pytest

from flows.approval import Channel, Decision, StepStatus
from flows.run_record import ApprovalRecord, FlowRecord, Step, StepsRecord
from flows.run_report import approval_table, closing, opening, outcome_line, steps_table

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


class Outcome(StrEnum):
    """A flow's outcomes, as small as a test needs."""

    CLEANED = "cleaned"


class Record(FlowRecord[Outcome]):
    """A flow's record, as small as a test needs."""


class LoggedRecord(StepsRecord[Outcome]):
    """A record of steps (as the rollback's and the cleanup's)."""


APPROVAL = ApprovalRecord(
    decision=Decision.TIMED_OUT,
    by="runbook-engine",
    channel=Channel.ENGINE,
    reason="No answer in time",
    requested_at=T0,
    decided_at=T0 + timedelta(minutes=15),
)
STEP = Step(name="assess", status=StepStatus.DONE, detail="2 nodes", at=T0)


@pytest.mark.parametrize(
    ("outcome", "detail", "line"),
    [
        (None, None, "**Outcome: in progress**"),
        (Outcome.CLEANED, None, "**Outcome: cleaned**"),
        (Outcome.CLEANED, "4 entries on 2 node(s)", "**Outcome: cleaned**: 4 entries on 2 node(s)"),
    ],
    ids=["in-progress", "without-detail", "with-detail"],
)
def test_the_outcome_line_names_the_outcome_and_its_detail(
    outcome: Outcome | None, detail: str | None, line: str
) -> None:
    record = Record(started_at=T0, outcome=outcome, outcome_detail=detail)

    assert outcome_line(record) == line


def test_the_approval_is_a_table_row_with_the_wait_for_a_human_and_no_microseconds() -> None:
    approval = APPROVAL.model_copy(
        update={"decided_at": T0 + timedelta(seconds=41, microseconds=7)}
    )

    assert approval_table(approval) == [
        "## Approval",
        "",
        "| decision | by | channel | asked | answered | waited | reason |",
        "| --- | --- | --- | --- | --- | --- | --- |",
        "| timed_out | runbook-engine | engine | 2024-05-01 12:00:00 UTC | "
        "2024-05-01 12:00:41 UTC | 41s | No answer in time |",
    ]


def test_the_steps_are_table_rows_in_order() -> None:
    steps = [
        Step(name="assess", status=StepStatus.DONE, detail="2 nodes", at=T0),
        Step(name="clean node-b", status=StepStatus.FAILED, detail="1 left", at=T0),
    ]

    assert steps_table(steps)[-2:] == [
        "| assess | done | 2024-05-01 12:00:00 UTC | 2 nodes |",
        "| clean node-b | failed | 2024-05-01 12:00:00 UTC | 1 left |",
    ]


@pytest.mark.parametrize(("dry_run", "said"), [(True, "yes"), (False, "no")])
def test_a_report_opens_with_its_title_outcome_start_and_whether_it_was_a_dry_run(
    dry_run: bool, said: str
) -> None:
    record = LoggedRecord(started_at=T0, dry_run=dry_run)

    assert opening("conntrack cleanup: kube-dns", record) == [
        "# conntrack cleanup: kube-dns",
        "",
        "**Outcome: in progress**",
        "",
        "- started: 2024-05-01 12:00:00 UTC",
        f"- dry run: {said}",
    ]


@pytest.mark.parametrize(
    ("fields", "headings"),
    [
        ({}, []),
        ({"approval": APPROVAL}, ["## Approval"]),
        ({"steps": [STEP]}, ["## Steps"]),
        ({"approval": APPROVAL, "steps": [STEP]}, ["## Approval", "## Steps"]),
    ],
    ids=["nothing", "approval", "steps", "both"],
)
def test_a_report_closes_with_the_approval_then_the_steps_when_there_are_any(
    fields: dict[str, object], headings: list[str]
) -> None:
    record = LoggedRecord.model_validate({"started_at": T0, **fields})

    assert [line for line in closing(record) if line.startswith("## ")] == headings
