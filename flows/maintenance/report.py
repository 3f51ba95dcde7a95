"""The preventive flows' reports (markdown): health checks, backup, service report, retention."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from datetime import datetime

from flows.maintenance.backup import BackupResult
from flows.maintenance.health import Check, Status
from flows.maintenance.observe import Snapshot
from flows.maintenance.retention import Tally
from flows.run_identity import PRODUCT_TAG


def render_health_report(checks: list[Check], status: Status) -> str:
    """The health check: the run's status and a row per check with its evidence."""
    lines = [f"# Cluster health: {status.value}", "", "| check | status | detail |"]
    lines += ["| --- | --- | --- |"]
    lines += [f"| {c.name} | {c.status.value} | {c.detail} |" for c in checks]
    return "\n".join(lines) + "\n"


def render_backup_report(result: BackupResult) -> str:
    """The backup: where it went, how many objects each file holds, the old ones removed."""
    lines = [f"# Configuration backup in `{result.directory}`", "", "| file | objects |"]
    lines += ["| --- | --- |", *(f"| {n} | {c} |" for n, c in result.files.items())]
    if result.pruned:
        lines += ["", f"Removed older backups: {', '.join(result.pruned)}"]
    return "\n".join(lines) + "\n"


def render_service_report(snapshot: Snapshot, *, taken_at: datetime) -> str:
    """The daily service report: Services by type, those without endpoints, kube-proxy per node."""
    by_type = Counter(service.type for service in snapshot.services)
    counts = ", ".join(f"{n} {kind}" for kind, n in sorted(by_type.items()))
    lines = [
        f"# Service report, {taken_at.isoformat(timespec='minutes')}",
        "",
        f"**{len(snapshot.services)} Services**" + (f": {counts}" if counts else ""),
        "",
        "## Services without ready endpoints",
        "",
    ]
    empty = snapshot.without_endpoints()
    lines += [
        f"- {s.meta.namespace}/{s.meta.name} (selector {_selector(s.selector)})" for s in empty
    ]
    lines += [] if empty else ["None."]
    lines += ["", "## kube-proxy", "", "| node | pod | phase | ready | restarts |"]
    lines.append("| --- | --- | --- | --- | --- |")
    for pod in sorted(snapshot.kube_proxy_pods, key=lambda p: p.node_name or ""):
        lines.append(
            f"| {pod.node_name or '?'} | {pod.meta.name} | {pod.phase} | "
            f"{'yes' if pod.ready else 'no'} | {pod.restart_count} |"
        )
    return "\n".join(lines) + "\n"


def _selector(selector: Mapping[str, str]) -> str:
    if not selector:
        return "(none)"
    return ",".join(f"{key}={value}" for key, value in sorted(selector.items()))


def render_retention_report(tally: Tally) -> str:
    """The retention run: what it deleted and what it kept, by kind, with counts."""
    cutoff = tally.cutoffs.records.isoformat(timespec="minutes")
    title = "would delete" if tally.dry_run else "deleted"
    lines = [
        f"# Prefect retention: older than {tally.cutoffs.age}",
        "",
        f"Cut-off: {cutoff}. Runs of the deployments tagged `{PRODUCT_TAG}` only.",
    ]
    if tally.dry_run:
        lines += ["", "**Dry run: nothing was deleted.** The counts are what a run would delete."]
    if tally.error:
        lines += ["", f"**Stopped early:** {tally.error}. The next run carries on."]
    states = ", ".join(f"{name} {n}" for name, n in sorted(tally.runs.items()))
    artifacts_note = (
        "all but the latest version of each key"
        if tally.keep_reports
        else "all of them, reports included"
    )
    lines += [
        "",
        f"## {title.capitalize()}",
        "",
        "| what | count | detail |",
        "| --- | --- | --- |",
        f"| finished runs that ended before the cut-off | {tally.runs_deleted} | {states} |",
        f"| their task runs | {tally.task_runs} | Prefect deletes them with their run |",
        f"| their artifacts | {tally.artifacts} | {artifacts_note} |",
        "| their states, inputs and logs | not counted | Prefect deletes them with their run "
        "(the logs moments later) |",
        f"| alert-resolution Variables | {tally.resolutions} | created before the cut-off |",
        f"| incident markers | {tally.markers} | over an hour old, their owner run ended |",
        "",
        "## Kept",
        "",
        "| what | count | detail |",
        "| --- | --- | --- |",
    ]
    if tally.keep_reports:
        lines.append(
            f"| reports of the deleted runs | {tally.reports_kept} | the latest version of each "
            "of their artifact keys (a run's report, a rollback's backup): readable, and "
            "links to them working, without the run |"
        )
    lines += [
        f"| unfinished runs older than the cut-off | {tally.unfinished_kept} | Scheduled, "
        "Pending, Running, Paused or Suspended: never deleted |",
        f"| finished runs since the cut-off | {tally.recent_kept} | |",
        f"| alert-resolution Variables | {tally.resolutions_kept} | created since the cut-off |",
        f"| incident markers | {tally.markers_kept} | their owner run has not ended, or under "
        "an hour old |",
    ]
    notes = []
    if tally.runs_left:
        notes.append(
            f"Stopped at the cap of {tally.max_runs} runs: {tally.runs_left} older finished "
            "runs are left for the next run."
        )
    if tally.resolutions_capped:
        notes.append(
            f"Stopped at the cap of {tally.max_runs} alert-resolution Variables: older ones "
            "are left for the next run."
        )
    if tally.already_gone:
        notes.append(
            f"{tally.already_gone} were gone already (deleted meanwhile), or were runs no "
            "longer finished when deleted, and were left alone."
        )
    if not tally.keep_reports and not tally.dry_run:
        notes.append("The reports of the deleted runs went with them.")
    return "\n".join([*lines, *(["", *notes] if notes else [])]) + "\n"
