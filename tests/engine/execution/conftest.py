"""The executor tests start on a Prefect where only their own runs of the sample flows are due."""

from __future__ import annotations

from uuid import UUID

import pytest
from prefect.client.orchestration import SyncPrefectClient, get_client
from prefect.client.schemas.filters import (
    FlowRunFilter,
    FlowRunFilterDeploymentId,
    FlowRunFilterState,
    FlowRunFilterStateType,
)
from prefect.client.schemas.objects import StateType


@pytest.fixture(autouse=True)
def no_runs_due(request: pytest.FixtureRequest) -> None:
    """Delete the sample flows' Scheduled runs other test files left (the dispatcher's tests
    create runs nobody executes): an executor would take them first, and fill its slots."""
    if "deployment_ids" not in request.fixturenames:
        return
    deployment_ids: dict[str, UUID] = request.getfixturevalue("deployment_ids")
    client: SyncPrefectClient
    with get_client(sync_client=True) as client:
        due = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(
                deployment_id=FlowRunFilterDeploymentId(any_=list(deployment_ids.values())),
                state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.SCHEDULED])),
            )
        )
        for run in due:
            client.delete_flow_run(run.id)
