"""The preventive flows' Prefect tasks: reading the cluster, writing the backup, deleting what
the retention flow deletes from Prefect (never cached)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect.client.orchestration import SyncPrefectClient, get_client

from flows.incident.tasks import RETRIED_WHILE_PREFECT_FAILS
from flows.maintenance import prefect_store
from flows.maintenance.backup import write_backup
from flows.maintenance.observe import Snapshot, take_snapshot
from flows.maintenance.report import render_backup_report
from flows.maintenance.retention import Deletion
from flows.runtime import current_runtime
from flows.task_policy import RETRIED_ON_TRANSIENT


class BackupNotConfiguredError(RuntimeError):
    """The runtime names no backup directory."""


@task(
    name="read-cluster",
    cache_policy=NO_CACHE,
    **RETRIED_ON_TRANSIENT,
)
def read_cluster(*, conntrack: bool = False, config_map: bool = False) -> Snapshot:
    """Read Services, EndpointSlices, kube-proxy (and conntrack use, the ConfigMap if asked)."""
    with current_runtime().kube_factory() as kube:
        return take_snapshot(kube, conntrack=conntrack, config_map=config_map)


@task(
    name="read-endpoints",
    cache_policy=NO_CACHE,
    **RETRIED_ON_TRANSIENT,
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


# Each deletion is a step of its own, retried while Prefect's API fails for a moment: a retry
# (or the next day's run) deletes again, and what an earlier attempt deleted is gone (a 404, or
# no longer matched by the bulk delete's filter).
_DELETION = RETRIED_WHILE_PREFECT_FAILS


def _delete_each(
    ids: Sequence[UUID], delete: Callable[[SyncPrefectClient, UUID], bool]
) -> Deletion:
    client: SyncPrefectClient
    with get_client(sync_client=True) as client:
        done = [delete(client, one) for one in ids]
    return Deletion(deleted=sum(done), already_gone=len(done) - sum(done))


@task(name="delete-artifacts", **_DELETION)
def delete_artifacts(artifact_ids: list[UUID]) -> Deletion:
    """Delete these artifacts (of runs about to be deleted)."""
    return _delete_each(artifact_ids, prefect_store.delete_artifact)


@task(name="delete-flow-runs", **_DELETION)
def delete_flow_runs(run_ids: list[UUID], ended_before: datetime) -> Deletion:
    """Delete these runs if still finished before `ended_before`, with all Prefect deletes
    with them; in calls of Prefect's bulk delete (one transaction each)."""
    deleted = 0
    client: SyncPrefectClient
    with get_client(sync_client=True) as client:
        for first in range(0, len(run_ids), prefect_store.BULK_DELETE):
            chunk = run_ids[first : first + prefect_store.BULK_DELETE]
            deleted += prefect_store.delete_finished_runs(client, chunk, ended_before=ended_before)
    return Deletion(deleted=deleted, already_gone=len(run_ids) - deleted)


@task(name="delete-variables", **_DELETION)
def delete_variables(variable_ids: list[UUID]) -> Deletion:
    """Delete these Variables by id (expired resolution records, stale incident markers)."""
    return _delete_each(variable_ids, prefect_store.delete_variable)
