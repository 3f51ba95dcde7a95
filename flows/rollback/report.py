"""The rollback run's report (markdown) and the keys of its artifacts."""

from __future__ import annotations

from flows.rollback.record import RollbackRecord


def report_key(flow_run_id: str) -> str:
    """The artifact key of a run's report (each publication is a new version)."""
    return f"rollback-report-{flow_run_id}"


def backup_key(flow_run_id: str) -> str:
    """The artifact key of the backup a run took before changing anything."""
    return f"rollback-backup-{flow_run_id}"


def render_report(record: RollbackRecord) -> str:
    """The report: target, plan, approval, steps and outcome."""
    outcome = record.outcome.value if record.outcome else "in progress"
    lines = [
        f"# kube-proxy rollback: {record.daemon_set}",
        "",
        f"**Outcome: {outcome}**" + (f": {record.outcome_detail}" if record.outcome_detail else ""),
        "",
        f"- started: {record.started_at.isoformat()}",
        f"- dry run: {'yes' if record.dry_run else 'no'}",
    ]
    if record.from_revision is not None and record.to_revision is not None:
        lines.append(f"- revision {record.from_revision} -> {record.to_revision}")
    lines += [f"- image {change}" for change in record.image_changes]
    if record.flow_run_id:
        lines.append(f"- backup: artifact `{backup_key(record.flow_run_id)}`")
    if record.diff:
        lines += ["", "## Template change", "", "```diff", *record.diff, "```"]
    if record.approval is not None:
        answer = record.approval
        lines += [
            "",
            "## Approval",
            "",
            "| decision | by | channel | asked | answered | reason |",
            "| --- | --- | --- | --- | --- | --- |",
            f"| {answer.decision} | {answer.by} | {answer.channel} | "
            f"{answer.requested_at.isoformat()} | {answer.decided_at.isoformat()} | "
            f"{answer.reason or ''} |",
        ]
    if record.steps:
        lines += [
            "",
            "## Steps",
            "",
            "| step | status | at | detail |",
            "| --- | --- | --- | --- |",
        ]
        lines += [
            f"| {step.name} | {step.status.value} | {step.at.isoformat()} | {step.detail} |"
            for step in record.steps
        ]
    return "\n".join(lines) + "\n"
