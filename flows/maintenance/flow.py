"""The scheduled preventive flows: a health check, a configuration backup, a service report.

All three only read the cluster (the backup writes files on the engine's side) and publish a
markdown artifact; their run's state says how it came out, so Prefect's notifications and
automations can page on an ``Unhealthy`` run like on any failed one.
"""

from __future__ import annotations

from typing import Any

from prefect import flow, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.client.schemas.objects import State
from prefect.runtime import flow_run
from prefect.states import Completed, Failed

from flows.maintenance.backup import write_backup
from flows.maintenance.health import CONNTRACK_THRESHOLD, Check, Status, check_health, worst
from flows.maintenance.service_report import render_service_report
from flows.maintenance.snapshot import KUBE_PROXY, KUBE_SYSTEM, Snapshot, take_snapshot
from flows.runtime import current_runtime
from flows.task_policy import TASK_RETRIES, retry_on_transient

HEALTH_CHECK = "cluster-health-check"
CONFIG_BACKUP = "config-backup"
SERVICE_REPORT = "service-report"


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


class BackupNotConfiguredError(RuntimeError):
    """The runtime names no backup directory."""


@task(
    name="read-cluster",
    cache_policy=NO_CACHE,
    retries=TASK_RETRIES,
    retry_condition_fn=retry_on_transient,
)
def read_cluster(*, conntrack: bool = False, config_map: bool = False) -> Snapshot:
    """Read Services, EndpointSlices, kube-proxy (and conntrack use, the ConfigMap if asked)."""
    with current_runtime().kube_factory() as kube:
        return take_snapshot(kube, conntrack=conntrack, config_map=config_map)


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
        markdown=_checks_markdown(checks, status),
        key=HEALTH_CHECK,
        description=f"Cluster health check: {status.value}",
    )
    summary = "; ".join(f"{c.name}: {c.detail}" for c in checks if c.status is not Status.OK)
    if status is Status.FAILED:
        return Failed(name="Unhealthy", message=summary)
    if status is Status.WARNING:
        return Completed(name="Degraded", message=summary)
    return Completed(name="Healthy", message=f"{len(checks)} checks passed")


@task(name="write-backup", cache_policy=NO_CACHE)
def save_backup(snapshot: Snapshot, endpoints: list[dict[str, Any]], keep: int) -> str:
    """Write the backup files; the artifact's markdown."""
    runtime = current_runtime()
    if runtime.backup_dir is None:
        raise BackupNotConfiguredError(
            "no backup directory: the engine sets <state_dir>/backups; a worker needs "
            "RUNBOOKS_BACKUP_DIR"
        )
    daemon_set = [snapshot.kube_proxy.raw] if snapshot.kube_proxy else []
    result = write_backup(
        runtime.backup_dir,
        {
            "services.yaml": [service.raw for service in snapshot.services],
            "endpoints.yaml": endpoints,
            "kube-proxy-daemonset.yaml": daemon_set,
            "kube-proxy-configmap.yaml": [snapshot.config_map] if snapshot.config_map else [],
        },
        taken_at=runtime.clock.now(),
        keep=keep,
    )
    lines = [f"# Configuration backup in `{result.directory}`", "", "| file | objects |"]
    lines += ["| --- | --- |", *(f"| {n} | {c} |" for n, c in result.files.items())]
    if result.pruned:
        lines += ["", f"Removed older backups: {', '.join(result.pruned)}"]
    return "\n".join(lines) + "\n"


@task(
    name="read-endpoints",
    cache_policy=NO_CACHE,
    retries=TASK_RETRIES,
    retry_condition_fn=retry_on_transient,
)
def read_endpoints() -> list[dict[str, Any]]:
    """Every Endpoints object, as the API returns it."""
    with current_runtime().kube_factory() as kube:
        return [dict(endpoints.raw) for endpoints in kube.list_endpoints()]


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


def _checks_markdown(checks: list[Check], status: Status) -> str:
    lines = [f"# Cluster health: {status.value}", "", "| check | status | detail |"]
    lines += ["| --- | --- | --- |"]
    lines += [f"| {c.name} | {c.status.value} | {c.detail} |" for c in checks]
    return "\n".join(lines) + "\n"
