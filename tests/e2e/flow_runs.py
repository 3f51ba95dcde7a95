"""Reading the flow runs an alert produced from Prefect's API, with bounded waits."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable
from uuid import UUID

from prefect.client.orchestration import PrefectClient
from prefect.client.schemas.filters import (
    DeploymentFilter,
    DeploymentFilterId,
    FlowRunFilter,
    FlowRunFilterTags,
)
from prefect.client.schemas.objects import FlowRun


async def runs_of_alert(
    client: PrefectClient, deployment_id: UUID, fingerprint: str
) -> list[FlowRun]:
    """The runs of a deployment tagged with the alert's fingerprint."""
    return await client.read_flow_runs(
        flow_run_filter=FlowRunFilter(tags=FlowRunFilterTags(all_=[f"fingerprint:{fingerprint}"])),
        deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[deployment_id])),
    )


async def runs_by_alert(
    client: PrefectClient, deployment_id: UUID, fingerprints: Iterable[str]
) -> dict[str, list[FlowRun]]:
    """``runs_of_alert`` for each fingerprint."""
    return {fp: await runs_of_alert(client, deployment_id, fp) for fp in fingerprints}


async def wait_for_runs(
    client: PrefectClient,
    deployment_id: UUID,
    fingerprints: Iterable[str],
    *,
    within: float = 30.0,
) -> dict[str, list[FlowRun]]:
    """Wait until every fingerprint has at least one run; fail after ``within`` seconds."""
    wanted = list(fingerprints)
    deadline = time.monotonic() + within
    while True:
        found = await runs_by_alert(client, deployment_id, wanted)
        if all(found.values()):
            return found
        if time.monotonic() > deadline:
            missing = [fp for fp, runs in found.items() if not runs]
            raise AssertionError(f"no run for fingerprints {missing} after {within:g}s")
        await asyncio.sleep(0.2)


async def wait_until_final(
    client: PrefectClient, run_ids: Iterable[UUID], *, within: float = 60.0
) -> list[FlowRun]:
    """Wait until every run's state is final; fail after ``within`` seconds."""
    pending = list(run_ids)
    deadline = time.monotonic() + within
    while True:
        runs = [await client.read_flow_run(run_id) for run_id in pending]
        if all(run.state is not None and run.state.is_final() for run in runs):
            return runs
        if time.monotonic() > deadline:
            states = {str(run.id): run.state and run.state.name for run in runs}
            raise AssertionError(f"runs not final after {within:g}s: {states}")
        await asyncio.sleep(0.2)
