"""The handbook's health check, decided from a snapshot: each check OK, a warning, or failed."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from flows.maintenance.observe import Snapshot

#: The handbook's threshold for conntrack entries on a node.
CONNTRACK_THRESHOLD = 100_000
#: A table this full drops new connections soon ("nf_conntrack: table full, dropping packet").
CONNTRACK_FULL = 0.9
LISTED = 10


class Status(StrEnum):
    """How a check came out (ordered: the worst one is the run's)."""

    OK = "ok"
    WARNING = "warning"
    FAILED = "failed"


SEVERITY = {Status.OK: 0, Status.WARNING: 1, Status.FAILED: 2}


@dataclass(frozen=True, slots=True)
class Check:
    """One check's result and its evidence."""

    name: str
    status: Status
    detail: str


def worst(checks: list[Check]) -> Status:
    """The worst status among ``checks`` (OK when there are none)."""
    return max((c.status for c in checks), key=SEVERITY.__getitem__, default=Status.OK)


def check_health(
    snapshot: Snapshot, *, conntrack_threshold: int = CONNTRACK_THRESHOLD
) -> list[Check]:
    """The handbook's checks: Services listable, Services without endpoints, kube-proxy pods,
    cluster DNS endpoints, conntrack use per node."""
    return [
        Check("services listable", Status.OK, f"{len(snapshot.services)} Services"),
        _endpoints(snapshot),
        _kube_proxy(snapshot),
        _dns(snapshot),
        *_conntrack(snapshot, conntrack_threshold),
    ]


def _endpoints(snapshot: Snapshot) -> Check:
    empty = sorted(f"{s.meta.namespace}/{s.meta.name}" for s in snapshot.without_endpoints())
    if not empty:
        return Check("services without ready endpoints", Status.OK, "none")
    shown = ", ".join(empty[:LISTED]) + (
        f" and {len(empty) - LISTED} more" if len(empty) > LISTED else ""
    )
    # A warning: a Service scaled to zero on purpose looks the same; the ServiceDown alert and
    # the checklist handle the ones that matter.
    return Check("services without ready endpoints", Status.WARNING, f"{len(empty)}: {shown}")


def _kube_proxy(snapshot: Snapshot) -> Check:
    if snapshot.kube_proxy is None:
        return Check("kube-proxy pods ready", Status.FAILED, "no DaemonSet kube-system/kube-proxy")
    desired = snapshot.kube_proxy.status.desired_number_scheduled
    pods = [p for p in snapshot.kube_proxy_pods if p.meta.deletion_timestamp is None]
    ready = [p for p in pods if p.phase == "Running" and p.ready]
    not_ready = sorted(
        f"{p.meta.name} on {p.node_name or '?'} ({p.phase})" for p in pods if p not in ready
    )
    detail = f"{len(ready)}/{desired} Running and Ready"
    if len(ready) >= desired and not not_ready:
        return Check("kube-proxy pods ready", Status.OK, detail)
    return Check(
        "kube-proxy pods ready",
        Status.FAILED,
        f"{detail}; not ready: {', '.join(not_ready) or 'missing pods'}",
    )


def _dns(snapshot: Snapshot) -> Check:
    # Named for what it checks: resolution itself needs a client pod, which this engine does
    # not run; no ready endpoint behind kube-dns means no resolution anywhere.
    service = snapshot.dns_service()
    if service is None:
        return Check("cluster DNS endpoints", Status.WARNING, "no Service kube-system/kube-dns")
    ready = snapshot.ready_addresses(service)
    status = Status.OK if ready else Status.FAILED
    return Check("cluster DNS endpoints", status, f"kube-dns ({service.cluster_ip}): {ready} ready")


def _conntrack(snapshot: Snapshot, threshold: int) -> list[Check]:
    checks = []
    for use in sorted(snapshot.conntrack, key=lambda u: u.node):
        name = f"conntrack entries on {use.node}"
        if use.count is None:
            checks.append(Check(name, Status.WARNING, use.problem or "not read"))
            continue
        detail = f"{use.count} of {use.limit}" if use.limit else str(use.count)
        if use.limit and use.count >= CONNTRACK_FULL * use.limit:
            checks.append(Check(name, Status.FAILED, f"{detail}: table nearly full"))
        elif use.count > threshold:
            checks.append(Check(name, Status.WARNING, f"{detail}: above {threshold}"))
        else:
            checks.append(Check(name, Status.OK, detail))
    return checks
