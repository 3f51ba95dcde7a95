"""The preventive flows' Prefect tasks: reading the cluster, writing the backup (never cached)."""

from __future__ import annotations

from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE

from flows.maintenance.backup import write_backup
from flows.maintenance.observe import Snapshot, take_snapshot
from flows.maintenance.report import render_backup_report
from flows.runtime import current_runtime
from flows.task_policy import TASK_RETRIES, retry_on_transient


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
    return render_backup_report(result)
