"""What Prefect keeps for the engine: read a page at a time, deleted by id or in bulk."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import httpx
from prefect.client.orchestration import SyncPrefectClient
from prefect.client.schemas.filters import (
    ArtifactCollectionFilter,
    ArtifactCollectionFilterLatestId,
    ArtifactFilter,
    ArtifactFilterFlowRunId,
    DeploymentFilter,
    DeploymentFilterTags,
    FlowRunFilter,
    FlowRunFilterEndTime,
    FlowRunFilterExpectedStartTime,
    FlowRunFilterId,
    FlowRunFilterState,
    FlowRunFilterStateType,
)
from prefect.client.schemas.objects import Artifact, StateType, Variable
from prefect.client.schemas.sorting import FlowRunSort
from prefect.exceptions import ObjectNotFound
from pydantic import TypeAdapter

from flows.maintenance.retention import (
    FINAL_STATE_TYPES,
    PAGE,
    UNFINISHED_STATE_TYPES,
    StoredArtifact,
)
from flows.run_identity import PRODUCT_TAG

_NOT_FOUND = 404
#: Most runs Prefect's bulk delete takes in one call.
BULK_DELETE = 50
_VARIABLES = TypeAdapter(list[Variable])


@dataclass(frozen=True, slots=True)
class StoredRun:
    """A finished run of one of the engine's deployments: its id and state type."""

    id: UUID
    state_type: str


@dataclass(frozen=True, slots=True)
class StoredVariable:
    """A Prefect Variable: its id, name, when it was created and its value."""

    id: UUID
    name: str
    created: datetime | None
    value: Any


def _product() -> DeploymentFilter:
    return DeploymentFilter(tags=DeploymentFilterTags(all_=[PRODUCT_TAG]))


def _in_states(types: Sequence[str]) -> FlowRunFilterState:
    return FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType(t) for t in types]))


def finished_runs(
    client: SyncPrefectClient, *, ended_before: datetime, offset: int, limit: int
) -> list[StoredRun]:
    """Finished runs of the engine's deployments that ended before `ended_before`, earliest
    expected first (so a pass the cap stops deletes the oldest)."""
    runs = client.read_flow_runs(
        flow_run_filter=FlowRunFilter(
            state=_in_states(FINAL_STATE_TYPES),
            end_time=FlowRunFilterEndTime(before_=ended_before),
        ),
        deployment_filter=_product(),
        sort=FlowRunSort.EXPECTED_START_TIME_ASC,
        offset=offset,
        limit=limit,
    )
    return [StoredRun(run.id, run.state.type.value if run.state else "UNKNOWN") for run in runs]


def count_finished(
    client: SyncPrefectClient, *, before: datetime | None = None, after: datetime | None = None
) -> int:
    """Finished runs of the engine's deployments that ended before (or after) a moment."""
    return client.count_flow_runs(
        flow_run_filter=FlowRunFilter(
            state=_in_states(FINAL_STATE_TYPES),
            end_time=FlowRunFilterEndTime(before_=before, after_=after),
        ),
        deployment_filter=_product(),
    )


def count_unfinished(client: SyncPrefectClient, *, expected_before: datetime) -> int:
    """Runs of the engine's deployments not finished, expected to start before a moment."""
    return client.count_flow_runs(
        flow_run_filter=FlowRunFilter(
            state=_in_states(UNFINISHED_STATE_TYPES),
            expected_start_time=FlowRunFilterExpectedStartTime(before_=expected_before),
        ),
        deployment_filter=_product(),
    )


def count_task_runs(client: SyncPrefectClient, run_ids: Sequence[UUID]) -> int:
    """The task runs of these flow runs."""
    body = {"task_runs": {"flow_run_id": {"any_": [str(i) for i in run_ids]}}}
    response = client.request("POST", "/task_runs/count", json=body)
    return int(response.json())


def artifacts_of(client: SyncPrefectClient, run_ids: Sequence[UUID]) -> list[StoredArtifact]:
    """Every artifact of these runs, each marked when it is the latest version of its key."""
    found: list[Artifact] = []
    while True:
        page = client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=run_ids)),
            offset=len(found),
            limit=PAGE,
        )
        found += page
        if len(page) < PAGE:
            break
    keyed = [artifact.id for artifact in found if artifact.key]
    latest: set[UUID] = set()
    for first in range(0, len(keyed), PAGE):
        collections = client.read_latest_artifacts(
            artifact_filter=ArtifactCollectionFilter(
                latest_id=ArtifactCollectionFilterLatestId(any_=keyed[first : first + PAGE])
            ),
            limit=PAGE,
        )
        latest |= {collection.latest_id for collection in collections}
    return [StoredArtifact(str(a.id), a.key, a.id in latest) for a in found]


def variables(client: SyncPrefectClient, *, tag: str, offset: int) -> list[StoredVariable]:
    """A page of the Variables tagged `tag`, newest first."""
    body = {
        "variables": {"tags": {"all_": [tag]}},
        "sort": "CREATED_DESC",
        "offset": offset,
        "limit": PAGE,
    }
    response = client.request("POST", "/variables/filter", json=body)
    return [
        StoredVariable(v.id, v.name, v.created, v.value)
        for v in _VARIABLES.validate_python(response.json())
    ]


def run_has_ended(client: SyncPrefectClient, run_id: object) -> bool:
    """Whether the run is final, deleted, or not a run id at all (as the incident ledger sees
    an owner: none of these will ever release its marker)."""
    try:
        run = client.read_flow_run(UUID(str(run_id)))
    except (ObjectNotFound, ValueError):
        return True
    return run.state is not None and run.state.is_final()


def delete_finished_runs(
    client: SyncPrefectClient, run_ids: Sequence[UUID], *, ended_before: datetime
) -> int:
    """Delete those of these runs (at most `BULK_DELETE`) still finished before `ended_before`.

    Prefect re-applies the filter in the transaction that deletes, so a run moved out of its
    final state since it was read (retried by hand) is never deleted. With each run go its
    states, task runs and inputs, and its logs moments later (a background task of the server).

    Returns:
        How many were deleted; the others were gone already, or are no longer finished.
    """
    runs = FlowRunFilter(
        id=FlowRunFilterId(any_=list(run_ids)),
        state=_in_states(FINAL_STATE_TYPES),
        end_time=FlowRunFilterEndTime(before_=ended_before),
    )
    body = {"flow_runs": runs.model_dump(mode="json", exclude_unset=True), "limit": len(run_ids)}
    # The route is Prefect 3.9's, missing from its client's list of routes (only the type).
    route: Any = "/flow_runs/bulk_delete"
    response = client.request("POST", route, json=body)
    return len(response.json()["deleted"])


def delete_artifact(client: SyncPrefectClient, artifact_id: UUID) -> bool:
    """Delete an artifact (Prefect re-points its key to the previous version); False: gone."""
    try:
        client.delete_artifact(artifact_id)
    except ObjectNotFound:
        return False
    return True


def delete_variable(client: SyncPrefectClient, variable_id: UUID) -> bool:
    """Delete a Variable by id (not by name: a marker re-created meanwhile is another id and
    stays); False: gone."""
    try:
        client.request("DELETE", "/variables/{id}", path_params={"id": variable_id})
    except httpx.HTTPStatusError as error:
        if error.response.status_code != _NOT_FOUND:
            raise
        return False
    return True
