"""The conntrack cleanup run's report (markdown) and its artifact key."""

from __future__ import annotations

from flows.conntrack.record import CleanupRecord
from flows.run_report import closing, opening


def report_key(flow_run_id: str) -> str:
    """The artifact key of a run's report (each publication is a new version)."""
    return f"conntrack-report-{flow_run_id}"


def render_report(record: CleanupRecord) -> str:
    """The report: target, planned deletions, approval, what each node did, outcome."""
    lines = opening(f"conntrack cleanup: {record.target}", record)
    if record.planned:
        lines += ["", "## Planned", "", *(f"- {line}" for line in record.planned)]
    if record.unreachable:
        lines += ["", "## Not looked at", "", *(f"- {line}" for line in record.unreachable)]
    return "\n".join([*lines, *closing(record)]) + "\n"
