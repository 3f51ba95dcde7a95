"""Prefect's flow runs in bulk: read by key or id a page at a time, created 100 to a transaction.

Prefect's client has no bulk create; its server has served one since 3.5. Each call is one
transaction, and reports each run's outcome: its id, or why it was refused.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any, cast
from uuid import UUID

from prefect.client.orchestration import PrefectClient
from prefect.client.orchestration.routes import ServerRoutes
from prefect.client.schemas.filters import (
    FlowRunFilter,
    FlowRunFilterId,
    FlowRunFilterIdempotencyKey,
)
from prefect.client.schemas.objects import FlowRun

#: Prefect's largest page, and the most runs its bulk create takes in one call.
PAGE = 200
BULK_CREATE_LIMIT = 100
#: Not in the client's route list (the client has no bulk-create method), served since 3.5.
BULK_CREATE_ROUTE = cast(ServerRoutes, "/deployments/{id}/create_flow_run/bulk")
#: Prefect's per-run errors that retrying cannot fix: the request itself is wrong.
PERMANENT_ERRORS = ("Parameter validation failed", "Invalid schema", "Parameter schema", "Cannot")


@dataclass(frozen=True)
class BulkFailure:
    """Prefect refused one run of a bulk create.

    Attributes:
        error: Prefect's reason.
        permanent: True when the run itself is wrong (its parameters); False when the server
            failed and a retry may succeed.
    """

    error: str
    permanent: bool


async def read_runs_by_key(client: PrefectClient, keys: Collection[str]) -> dict[str, FlowRun]:
    """The runs persisted under any of ``keys``, by idempotency key (any age, any state)."""
    ordered = sorted(keys)
    found: dict[str, FlowRun] = {}
    for first in range(0, len(ordered), PAGE):
        chunk = ordered[first : first + PAGE]
        runs = await client.read_flow_runs(
            flow_run_filter=FlowRunFilter(idempotency_key=FlowRunFilterIdempotencyKey(any_=chunk)),
            limit=PAGE,
        )
        found.update((run.idempotency_key, run) for run in runs if run.idempotency_key)
    return found


async def read_runs(client: PrefectClient, run_ids: Collection[UUID]) -> list[FlowRun]:
    """The runs with these ids."""
    ordered = list(run_ids)
    runs: list[FlowRun] = []
    for first in range(0, len(ordered), PAGE):
        chunk = ordered[first : first + PAGE]
        runs += await client.read_flow_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=chunk)), limit=PAGE
        )
    return runs


async def create_runs(
    client: PrefectClient, deployment_id: UUID, bodies: Sequence[dict[str, Any]]
) -> list[UUID | BulkFailure]:
    """Create runs of one deployment, ``BULK_CREATE_LIMIT`` per call, each call one transaction.

    Args:
        client: The Prefect API.
        deployment_id: The deployment.
        bodies: ``DeploymentFlowRunCreate`` documents, with idempotency keys: a key that already
            has a run answers with that run's id.

    Returns:
        Per body, in order: the run's id, or why Prefect refused it.

    Raises:
        httpx.HTTPStatusError: Prefect refused the whole call.
    """
    outcomes: list[UUID | BulkFailure] = []
    for first in range(0, len(bodies), BULK_CREATE_LIMIT):
        chunk = list(bodies[first : first + BULK_CREATE_LIMIT])
        response = await client.request(
            "POST", BULK_CREATE_ROUTE, path_params={"id": deployment_id}, json=chunk
        )
        results = response.json()["results"]
        if len(results) != len(chunk):
            raise ValueError(f"Prefect answered {len(results)} results for {len(chunk)} runs")
        outcomes += [_outcome(result) for result in results]
    return outcomes


def _outcome(result: dict[str, Any]) -> UUID | BulkFailure:
    if result.get("status") == "CREATED" and result.get("flow_run_id"):
        return UUID(result["flow_run_id"])
    error = str(result.get("error") or "no reason given")
    return BulkFailure(error=error, permanent=error.startswith(PERMANENT_ERRORS))
