"""The retention flow's passes: old runs and their artifacts, resolution records, stale markers.

Each pass reads a page (`retention.PAGE`) at a time and deletes it in a task before reading the
next, so no call holds Prefect's database for long and a pass stopped anywhere (a failure, the
cap) leaves nothing half-done that the next run would not finish. Reads are plain calls, not
tasks: each task run costs Prefect several writes, and the reads change nothing (Prefect's
client itself retries a busy server's answers).
"""

from __future__ import annotations

from uuid import UUID

import httpx
from prefect.client.orchestration import SyncPrefectClient, get_client

from flows.incident.records import MARKER_TAG
from flows.maintenance import prefect_store
from flows.maintenance.retention import (
    PAGE,
    Cutoffs,
    Deletion,
    Tally,
    marker_stale,
    resolution_expired,
    split_artifacts,
)
from flows.maintenance.tasks import delete_artifacts, delete_flow_runs, delete_variables
from flows.run_identity import RESOLUTION_TAG


def retain(cutoffs: Cutoffs, *, dry_run: bool, keep_reports: bool, max_runs: int) -> Tally:
    """Delete (or, in a dry run, count) what is past the cut-offs; what was deleted and kept.

    A failure of Prefect's API ends the passes early: the tally then says what was done and why
    it stopped (the next run carries on where this one stopped).
    """
    tally = Tally(cutoffs=cutoffs, dry_run=dry_run, keep_reports=keep_reports, max_runs=max_runs)
    client: SyncPrefectClient
    try:
        with get_client(sync_client=True) as client:
            _runs(client, tally)
            _resolutions(client, tally)
            _markers(client, tally)
            tally.unfinished_kept = prefect_store.count_unfinished(
                client, expected_before=cutoffs.records
            )
            tally.recent_kept = prefect_store.count_finished(client, after=cutoffs.records)
    except httpx.HTTPError as error:
        tally.error = f"Prefect's API failed: {error!r}"
    return tally


def _runs(client: SyncPrefectClient, tally: Tally) -> None:
    old = prefect_store.count_finished(client, before=tally.cutoffs.records)
    seen = 0
    while seen < tally.max_runs:
        limit = min(PAGE, tally.max_runs - seen)
        # Deleting, the next page is what is left at the front; counting, it lies further on.
        offset = seen if tally.dry_run else 0
        page = prefect_store.finished_runs(
            client, ended_before=tally.cutoffs.records, offset=offset, limit=limit
        )
        if not page:
            break
        ids = [run.id for run in page]
        doomed, kept = split_artifacts(
            prefect_store.artifacts_of(client, ids), keep_reports=tally.keep_reports
        )
        tally.task_runs += prefect_store.count_task_runs(client, ids)
        if not tally.dry_run:
            # Artifacts first: they have no link to their run, so one left behind by a run
            # deleted first would never be found again.
            _record(tally, delete_artifacts([UUID(a.id) for a in doomed]) if doomed else None)
            _record(tally, delete_flow_runs(ids, tally.cutoffs.records))
        tally.artifacts += len(doomed)
        tally.reports_kept += len(kept)
        tally.runs.update(run.state_type.title() for run in page)
        seen += len(page)
        if len(page) < limit:
            break
    tally.runs_left = max(0, old - seen)


def _resolutions(client: SyncPrefectClient, tally: Tally) -> None:
    offset = 0
    while tally.resolutions < tally.max_runs:
        page = prefect_store.variables(client, tag=RESOLUTION_TAG, offset=offset)
        # Newest first: the expired ones are the page's tail, and the pages after it.
        expired = [v for v in page if resolution_expired(v.created, tally.cutoffs)]
        doomed = expired[: tally.max_runs - tally.resolutions]
        tally.resolutions_capped = len(doomed) < len(expired)
        if doomed and not tally.dry_run:
            _record(tally, delete_variables([v.id for v in doomed]))
        tally.resolutions += len(doomed)
        tally.resolutions_kept += len(page) - len(expired)
        if len(page) < PAGE or tally.resolutions_capped:
            break
        offset += len(page) - (0 if tally.dry_run else len(doomed))


def _markers(client: SyncPrefectClient, tally: Tally) -> None:
    markers: list[prefect_store.StoredVariable] = []
    while True:  # few: one per shared object being changed, per cluster
        page = prefect_store.variables(client, tag=MARKER_TAG, offset=len(markers))
        markers += page
        if len(page) < PAGE:
            break
    stale = [
        marker
        for marker in markers
        if marker_stale(
            marker.created,
            owner_ended=prefect_store.run_has_ended(client, _owner(marker.value)),
            cutoffs=tally.cutoffs,
        )
    ]
    if stale and not tally.dry_run:
        _record(tally, delete_variables([marker.id for marker in stale]))
    tally.markers += len(stale)
    tally.markers_kept += len(markers) - len(stale)


def _owner(value: object) -> object:
    return value.get("owner_run_id") if isinstance(value, dict) else None


def _record(tally: Tally, deletion: Deletion | None) -> None:
    if deletion is not None:
        tally.already_gone += deletion.already_gone
