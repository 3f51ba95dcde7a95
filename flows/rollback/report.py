"""The rollback run's report (markdown) and the keys of its artifacts."""

from __future__ import annotations

from flows.rollback.record import RollbackRecord
from flows.run_report import closing, opening


def report_key(flow_run_id: str) -> str:
    """The artifact key of a run's report (each publication is a new version)."""
    return f"rollback-report-{flow_run_id}"


def backup_key(flow_run_id: str) -> str:
    """The artifact key of the backup a run took before changing anything."""
    return f"rollback-backup-{flow_run_id}"


def render_report(record: RollbackRecord) -> str:
    """The report: target, plan, approval, steps and outcome."""
    lines = opening(f"kube-proxy rollback: {record.daemon_set}", record)
    if record.from_revision is not None and record.to_revision is not None:
        lines.append(f"- revision {record.from_revision} -> {record.to_revision}")
    lines += [f"- image {change}" for change in record.image_changes]
    if record.flow_run_id:
        lines.append(f"- backup: artifact `{backup_key(record.flow_run_id)}`")
    if record.target:
        lines += ["", "## Target revision", "", *(f"- {line}" for line in record.target)]
    if record.diff:
        lines += ["", "## Template change", "", "```diff", *record.diff, "```"]
    if record.handed_back:
        lines += ["", "## Alerts that arrived during the rollback", ""]
        lines += [f"- {line}" for line in record.handed_back]
    return "\n".join([*lines, *closing(record)]) + "\n"
