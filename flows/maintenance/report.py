"""The daily service report: Services by type, those without endpoints, kube-proxy per node."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from datetime import datetime

from flows.maintenance.snapshot import Snapshot


def render_service_report(snapshot: Snapshot, *, taken_at: datetime) -> str:
    """The report as markdown."""
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
