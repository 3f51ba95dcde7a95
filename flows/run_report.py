"""The report parts every change run shares: opening and outcome line, approval and steps tables."""

from __future__ import annotations

from typing import Any

from flows.approval.models import clock_time
from flows.run_record import ApprovalRecord, FlowRecord, Step, StepsRecord


def outcome_line(record: FlowRecord[Any]) -> str:
    """``**Outcome: <outcome>**: <detail>`` (``in progress`` before the run ends)."""
    detail = f": {record.outcome_detail}" if record.outcome_detail else ""
    return f"**Outcome: {record.outcome_text}**{detail}"


def waited(seconds: float) -> str:
    """``1m 05s``, ``42s``: a wait as the reports show it."""
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes}m {rest:02d}s" if minutes else f"{rest}s"


def approval_table(line: ApprovalRecord) -> list[str]:
    """The report's approval section: who answered, when, and how long the run waited.

    Prefect's duration of the run counts only the time it was running: the wait for a human
    (the run suspended) is not in it, and is given here.
    """
    return [
        "## Approval",
        "",
        "| decision | by | channel | asked | answered | waited | reason |",
        "| --- | --- | --- | --- | --- | --- | --- |",
        f"| {line.decision.value} | {line.by} | {line.channel.value} | "
        f"{clock_time(line.requested_at)} | {clock_time(line.decided_at)} | "
        f"{waited(line.waited_seconds)} | {line.reason} |",
    ]


def steps_table(steps: list[Step]) -> list[str]:
    """The report's steps section."""
    return [
        "## Steps",
        "",
        "| step | status | at | detail |",
        "| --- | --- | --- | --- |",
        *(
            f"| {step.name} | {step.status.value} | {clock_time(step.at)} | {step.detail} |"
            for step in steps
        ),
    ]


def opening(title: str, record: StepsRecord[Any]) -> list[str]:
    """A report's first lines: its title, the outcome, when the run started, if it was a dry run."""
    return [
        f"# {title}",
        "",
        outcome_line(record),
        "",
        f"- started: {clock_time(record.started_at)}",
        f"- dry run: {'yes' if record.dry_run else 'no'}",
    ]


def closing(record: StepsRecord[Any]) -> list[str]:
    """A report's last sections: the approval and the steps, each when there is one."""
    lines: list[str] = []
    if record.approval is not None:
        lines += ["", *approval_table(record.approval)]
    if record.steps:
        lines += ["", *steps_table(record.steps)]
    return lines
