"""The incident report: a run record rendered as markdown, and its artifact key."""

from __future__ import annotations

from datetime import datetime

from flows.approval.models import clock_time
from flows.checklist.actions import PHASE_ORDER, Phase
from flows.checklist.findings import Finding
from flows.checklist.record import (
    ActionRecord,
    ActionStatus,
    IncidentRole,
    RunRecord,
    StepsApproval,
)
from flows.checklist.timeline import FIVE_MINUTES, RunTime, phase_times, run_time
from flows.run_report import outcome_line


def report_key(flow_run_id: str) -> str:
    """The artifact key of a run's report (one per run; each publication is a new version)."""
    return f"checklist-report-{flow_run_id}"


def render_report(record: RunRecord) -> str:
    """Render the run as a markdown incident report."""
    sections = [
        _header(record),
        _alert(record),
        *_incident(record),
        _findings(record.findings),
        _plan(record),
        _actions(record.actions),
        _signals(record),
        _approval(record.approval),
        _timeline(record),
    ]
    return "\n\n".join(sections) + "\n"


def duration(seconds: float | None) -> str:
    """``1m 05s``, ``42s``, or ``-`` when unknown."""
    if seconds is None:
        return "-"
    whole = round(seconds)
    minutes, rest = divmod(whole, 60)
    return f"{minutes}m {rest:02d}s" if minutes else f"{rest}s"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _time(value: datetime | None) -> str:
    return clock_time(value) if value is not None else "-"


def _target(record: RunRecord) -> str:
    parameters = record.parameters
    if parameters.service_key:
        return parameters.service_key
    if parameters.instance:
        return f"node {parameters.instance}"
    return "the cluster"


def _header(record: RunRecord) -> str:
    parameters = record.parameters
    name = (record.alert and record.alert.alertname) or parameters.alertname or "Checklist run"
    lines = [
        f"# Incident report: {name} on {_target(record)}",
        "",
        outcome_line(record),
        "",
        f"- Scope: {parameters.scope.value} ({_target(record)})",
        f"- Runbook: {record.runbook or '-'}; flow run: {record.flow_run_id or '-'}",
        f"- Dry run: {'yes' if parameters.dry_run else 'no'}; "
        f"drill: {'yes' if parameters.auto_approve else 'no'}",
        f"- Started: {_time(record.started_at)}; finished: {_time(record.finished_at)}",
    ]
    if parameters.follow_up_of:
        lines.append(
            f"- Follow-up of run {parameters.follow_up_of} (kube-proxy restarts already made "
            f"this hour: {parameters.restarted_this_hour})"
        )
    if record.follow_up:
        lines.append(f"- Follow-up run: {record.follow_up}")
    return "\n".join(lines)


def _alert(record: RunRecord) -> str:
    alert = record.alert
    parameters = record.parameters
    fingerprint = (alert and alert.fingerprint) or parameters.alert_fingerprint
    starts_at = (alert and alert.starts_at) or parameters.alert_starts_at
    labels = alert.labels if alert else {}
    rendered = ", ".join(f"`{k}={v}`" for k, v in sorted(labels.items())) or "-"
    return "\n".join(
        [
            "## Alert",
            "",
            f"- Name: {(alert and alert.alertname) or parameters.alertname or '-'}",
            f"- Fingerprint: `{fingerprint or '-'}`",
            f"- startsAt: {_time(starts_at)}",
            f"- Labels: {rendered}",
        ]
    )


def _incident(record: RunRecord) -> list[str]:
    incident = record.incident
    if incident is None:
        return []
    if incident.role is IncidentRole.JOINED:
        return [
            f"## Incident\n\nThis run joined the {incident.shared} incident of run "
            f"{incident.owner}: {incident.cause}. That run plans, asks for and makes the change "
            "once for every alert; its report lists this one and what its target showed after."
        ]
    covered = incident.covered
    targets = len({alert.target for alert in covered})
    lines = [
        "## Incident",
        "",
        f"This run owned the {incident.shared} incident: {incident.cause}. One plan and one "
        f"approval request answered for this alert and {len(covered)} more on {targets} "
        "target(s); each was verified once the change was done, and one still failing then got "
        "its own run.",
    ]
    if covered:
        lines += [
            "",
            "| Alert | Target | Fired | Joined | Via | After the change | Resolved | Handled by |",
            "|---|---|---|---|---|---|---|---|",
        ]
        lines += [
            f"| {_cell(a.alertname)} | {_cell(a.target)} | {_time(a.fired_at)} | "
            f"{_time(a.joined_at)} | {_cell(a.via)} | "
            f"{_cell(_verdict_of(a.verified) + (a.verification or '-'))} | "
            f"{_time(a.resolved_at)} | {_cell(a.handled_by)} |"
            for a in covered
        ]
    return ["\n".join(lines)]


def _verdict_of(verified: bool | None) -> str:
    if verified is None:
        return ""
    return "working: " if verified else "still failing: "


def _findings(findings: list[Finding]) -> str:
    lines = ["## Findings", ""]
    if not findings:
        return "\n".join([*lines, "None recorded."])
    ordered = sorted(findings, key=lambda f: -f.severity)
    for finding in ordered:
        lines.append(
            f"- **{finding.severity.label}** `{finding.code.value}` {finding.subject}: "
            f"{finding.summary}"
        )
        lines.extend(f"  - {line}" for line in finding.evidence)
    return "\n".join(lines)


def _plan(record: RunRecord) -> str:
    lines = ["## Plan", ""]
    if not record.actions:
        lines.append("No steps planned.")
    for number, action in enumerate(record.actions, start=1):
        approval = "needs approval" if action.needs_approval else "automatic"
        lines.append(f"{number}. [{action.phase.value}] {action.description} ({approval})")
        lines.append(f"   - Blast radius: {action.blast_radius}")
        if action.diff:
            lines.extend(["   ```diff", *(f"   {line}" for line in action.diff), "   ```"])
    if record.notes:
        lines.extend(["", "Notes:"])
        for note in record.notes:
            lines.append(f"- [{note.phase.value}] {note.kind.value}: {note.text}")
            lines.extend(f"  - {detail}" for detail in note.details)
    if record.deferred_nodes:
        lines.extend(["", f"Deferred nodes: {', '.join(record.deferred_nodes)}"])
    return "\n".join(lines)


def _actions(actions: list[ActionRecord]) -> str:
    lines = ["## Actions", ""]
    if not actions:
        return "\n".join([*lines, "No action was taken."])
    lines += ["| # | Phase | Step | Result | Why / detail |", "|---|---|---|---|---|"]
    for number, action in enumerate(actions, start=1):
        lines.append(
            f"| {number} | {action.phase.value} | {_cell(action.description)} | "
            f"{action.status.value} | {_cell(action.detail or '')} |"
        )
    return "\n".join(lines)


_SIGNAL_RESULTS = {
    ActionStatus.DONE: "checked: passed",
    ActionStatus.FAILED: "checked: failed",
    ActionStatus.SKIPPED: "unavailable",
    ActionStatus.PLANNED: "not run",
    ActionStatus.DRY_RUN: "not run (dry run)",
}


def _signals(record: RunRecord) -> str:
    """Which recovery signals verification checked, and which it could not (and why)."""
    lines = ["## Recovery signals", ""]
    checks = [a for a in record.actions if a.phase is Phase.VERIFY and a.key.startswith("verify:")]
    rows = [
        (a.description, _SIGNAL_RESULTS[a.status], (a.detail or "").removeprefix("unavailable: "))
        for a in checks
    ]
    if not any(a.key.startswith("verify:alert/") for a in checks):
        why = "no alert started this run" if record.alert is None else "not planned"
        rows.append(("Alert stopped firing", "not applicable", why))
    if not checks:
        lines += ["No verification step was planned.", ""]
    lines += ["| Signal | Result | Seen |", "|---|---|---|"]
    lines += [f"| {_cell(what)} | {result} | {_cell(seen)} |" for what, result, seen in rows]
    return "\n".join(lines)


def _approval(approval: StepsApproval | None) -> str:
    lines = ["## Approvals", ""]
    if approval is None:
        return "\n".join([*lines, "No approval was requested."])
    lines += [
        "| Steps | Decision | By | Channel | Requested | Decided | Waited | Reason |",
        "|---|---|---|---|---|---|---|---|",
        f"| {_cell(', '.join(approval.action_keys))} | {approval.decision.value} | "
        f"{_cell(approval.by or '-')} | {approval.channel.value} | "
        f"{_time(approval.requested_at)} | {_time(approval.decided_at)} | "
        f"{duration(approval.waited_seconds)} | {_cell(approval.reason)} |",
    ]
    return "\n".join(lines)


def _timeline(record: RunRecord) -> str:
    lines = [
        "## Timeline",
        "",
        "| Phase | Started | Duration | Waiting for a human | Working | Budget | Within budget |",
        "|---|---|---|---|---|---|---|",
    ]
    times = phase_times(record)
    for phase in PHASE_ORDER:
        budget = duration(phase.budget_seconds)
        entry = times.get(phase)
        if entry is None:
            lines.append(f"| {phase.value} | not run | - | - | - | {budget} | - |")
            continue
        working = entry.working_seconds
        within = "-" if working is None else ("yes" if working <= phase.budget_seconds else "no")
        lines.append(
            f"| {phase.value} | {_time(entry.started_at)} | {duration(entry.seconds)} | "
            f"{duration(entry.waiting_seconds)} | {duration(working)} | {budget} | {within} |"
        )
    time = run_time(record)
    if time.waiting_seconds:
        # Prefect counts only the time the run was Running: the suspension is not in it.
        lines += [
            "",
            "Waiting for a human runs from the request to the answer; Prefect's duration of the "
            "run (its time running) leaves it out.",
        ]
    lines += ["", _verdict(time)]
    return "\n".join(lines)


def _verdict(time: RunTime) -> str:
    total, working = time.total_seconds, time.working_seconds
    if total is None or working is None:
        return "The run has not finished."
    summary = (
        f"Total {duration(total)}, of which {duration(time.waiting_seconds)} waiting for a "
        f"human and {duration(working)} working."
    )
    if total <= FIVE_MINUTES:
        return f"{summary} Inside five minutes."
    if working <= FIVE_MINUTES:
        return f"{summary} Over five minutes only because of the wait for a human."
    return f"{summary} Over five minutes even without the wait for a human."
