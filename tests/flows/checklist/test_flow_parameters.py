"""A run asked for with a scope and not its target is refused when it is created, as the Prefect
UI's run form creates it: no run exists to fail later."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import pytest
from prefect.client.orchestration import PrefectClient
from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterId
from prefect.exceptions import PrefectHTTPStatusError

from tests.prefect_runs import create_run_by_hand


@pytest.mark.parametrize(
    ("parameters", "missing"),
    [
        pytest.param({"scope": "service", "namespace": "shop"}, "'service'", id="no service"),
        pytest.param({"scope": "node"}, "'instance'", id="no node"),
    ],
)
async def test_a_scope_without_its_target_is_refused_and_no_run_is_created(
    checklist_deployment: UUID,
    prefect_client: PrefectClient,
    parameters: dict[str, Any],
    missing: str,
) -> None:
    before = await prefect_client.count_flow_runs(
        deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[checklist_deployment]))
    )

    with pytest.raises(PrefectHTTPStatusError) as refused:
        await create_run_by_hand(prefect_client, checklist_deployment, parameters=parameters)

    assert refused.value.response.status_code == 409
    assert f"{missing} is a required property" in refused.value.response.text
    after = await prefect_client.count_flow_runs(
        deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[checklist_deployment]))
    )
    assert after == before
