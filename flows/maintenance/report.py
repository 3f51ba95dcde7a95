"""The preventive flows' reports (markdown): the health checks, the backup, the service report."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from datetime import datetime

from flows.maintenance.backup import BackupResult
from flows.maintenance.health import Check, Status
from flows.maintenance.observe import Snapshot


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
