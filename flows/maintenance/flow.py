"""The scheduled preventive flows: health check, configuration backup, service report, retention.

The first three only read the cluster (the backup writes files on the engine's side); the
retention flow only touches Prefect, deleting what is past the retention age. Each publishes a
markdown artifact; their run's state says how it came out, so Prefect's notifications and
automations can page on an ``Unhealthy`` run like on any failed one.
"""

from __future__ import annotations

from typing import Annotated, Any

from prefect import flow
from prefect.artifacts import create_markdown_artifact
from prefect.client.schemas.objects import State
from prefect.runtime import flow_run
from prefect.states import Completed, Failed
from pydantic import Field

from flows.forms import titled
from flows.maintenance.conduct import retain
from flows.maintenance.health import CONNTRACK_THRESHOLD, Status, check_health, worst
from flows.maintenance.observe import KUBE_PROXY, KUBE_SYSTEM
from flows.maintenance.report import (
    render_health_report,
    render_retention_report,
    render_service_report,
)
from flows.maintenance.retention import MAX_RUNS, Cutoffs
from flows.maintenance.tasks import read_cluster, read_endpoints, save_backup
from flows.runtime import current_runtime
from flows.settings import FlowSettings

HEALTH_CHECK = "cluster-health-check"
CONFIG_BACKUP = "config-backup"
SERVICE_REPORT = "service-report"
RETENTION = "prefect-retention"


#: A run this late is skipped: a newer one covers it (an engine down for a day would otherwise
#: run every missed health check when it comes back).
MAX_LATE_SECONDS = {HEALTH_CHECK: 10 * 60, CONFIG_BACKUP: 6 * 3600, SERVICE_REPORT: 6 * 3600}


def skipped_if_late(name: str) -> State[Any] | None:
    """A ``SkippedLate`` state when this run started long after its scheduled time."""
    scheduled = flow_run.scheduled_start_time
    late = (current_runtime().clock.now() - scheduled).total_seconds()
    if late <= MAX_LATE_SECONDS[name]:
        return None
    return Completed(
        name="SkippedLate",
        message=f"scheduled for {scheduled.isoformat()}, {late / 60:.0f} min ago: skipped",
    )


@titled({"conntrack_threshold": "Conntrack entries per node before a warning"})
@flow(name=HEALTH_CHECK, log_prints=False, validate_parameters=True)
def cluster_health_check(conntrack_threshold: int = CONNTRACK_THRESHOLD) -> State[Any]:
    """The handbook's health check; ``Healthy``, ``Degraded`` (warnings) or ``Unhealthy``.

    Args:
        conntrack_threshold: Entries on one node above which conntrack use is a warning.
    """
    skipped = skipped_if_late(HEALTH_CHECK)
    if skipped is not None:
        return skipped
    checks = check_health(read_cluster(conntrack=True), conntrack_threshold=conntrack_threshold)
    status = worst(checks)
    create_markdown_artifact(
        markdown=render_health_report(checks, status),
        key=HEALTH_CHECK,
        description=f"Cluster health check: {status.value}",
    )
    summary = "; ".join(f"{c.name}: {c.detail}" for c in checks if c.status is not Status.OK)
    if status is Status.FAILED:
        return Failed(name="Unhealthy", message=summary)
    if status is Status.WARNING:
        return Completed(name="Degraded", message=summary)
    return Completed(name="Healthy", message=f"{len(checks)} checks passed")


@titled({"keep": "Backups to keep"})
@flow(name=CONFIG_BACKUP, log_prints=False, validate_parameters=True)
def config_backup(keep: int = 14) -> State[Any]:
    """Back up Services, Endpoints, the kube-proxy DaemonSet and ConfigMap as YAML files.

    Args:
        keep: How many daily backups to keep.
    """
    skipped = skipped_if_late(CONFIG_BACKUP)
    if skipped is not None:
        return skipped
    snapshot = read_cluster(config_map=True)
    markdown = save_backup(snapshot, read_endpoints(), keep)
    create_markdown_artifact(markdown=markdown, key=CONFIG_BACKUP, description="Backup")
    where = f"{KUBE_SYSTEM}/{KUBE_PROXY}" if snapshot.kube_proxy else "no kube-proxy"
    return Completed(
        name="BackedUp", message=f"{len(snapshot.services)} Services, {where} backed up"
    )


@flow(name=SERVICE_REPORT, log_prints=False, validate_parameters=True)
def service_report() -> State[Any]:
    """The daily service report: Service count, Services without endpoints, kube-proxy pods."""
    skipped = skipped_if_late(SERVICE_REPORT)
    if skipped is not None:
        return skipped
    snapshot = read_cluster()
    markdown = render_service_report(snapshot, taken_at=current_runtime().clock.now())
    create_markdown_artifact(markdown=markdown, key=SERVICE_REPORT, description="Service report")
    empty = len(snapshot.without_endpoints())
    return Completed(
        name="Reported",
        message=f"{len(snapshot.services)} Services, {empty} without ready endpoints",
    )


@titled(
    {
        "retention_days": "Days to keep (empty: RUNBOOKS_RETENTION_DAYS, 30 by default)",
        "dry_run": "Dry run: count only, delete nothing",
        "keep_reports": "Keep the reports of deleted runs (empty: RUNBOOKS_RETENTION_KEEP_REPORTS)",
        "max_runs": "Most runs (and Variables) to delete in this run",
    }
)
@flow(name=RETENTION, log_prints=False, validate_parameters=True)
def prefect_retention(
    retention_days: Annotated[int, Field(ge=1)] | None = None,
    dry_run: bool = False,
    keep_reports: bool | None = None,
    max_runs: Annotated[int, Field(ge=1)] = MAX_RUNS,
) -> State[Any]:
    """Delete finished runs, resolution records and stale incident markers past the age.

    What goes and what stays is in `flows.maintenance.retention`; the run's report counts both.

    Args:
        retention_days: Days to keep; None: ``RUNBOOKS_RETENTION_DAYS`` (30 when unset).
        dry_run: Count what would be deleted; delete nothing.
        keep_reports: Keep the latest version of each artifact key of a deleted run (its
            report); False: the reports go with their runs; None:
            ``RUNBOOKS_RETENTION_KEEP_REPORTS`` (true when unset).
        max_runs: Most runs, and most resolution Variables, deleted in one run (the rest wait
            for the next), so one run never holds Prefect for long.
    """
    # Never skipped when late, unlike the others: a late run does the same bounded work, and a
    # second missed one finds nothing more to delete.
    if retention_days is None or keep_reports is None:
        # Settings, not deployment defaults: the engine re-applies those at every start.
        settings = FlowSettings()
        retention_days = settings.retention_days if retention_days is None else retention_days
        keep_reports = settings.retention_keep_reports if keep_reports is None else keep_reports
    cutoffs = Cutoffs(now=current_runtime().clock.now(), days=retention_days)
    tally = retain(cutoffs, dry_run=dry_run, keep_reports=keep_reports, max_runs=max_runs)
    create_markdown_artifact(
        markdown=render_retention_report(tally),
        key=RETENTION,
        description=f"Prefect retention: {tally.summary()}",
    )
    if tally.error is not None:
        return Failed(name="RetentionStopped", message=f"{tally.error}; {tally.summary()}")
    return Completed(name="Counted" if dry_run else "Trimmed", message=tally.summary())
