"""Reading and steering the changing flows' runs through Prefect's API, riding out its outages."""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, TypeVar
from uuid import UUID

import httpx
from prefect.client.orchestration import PrefectClient
from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterId
from prefect.client.schemas.objects import FlowRun, StateType
from prefect.exceptions import ObjectNotFound, PrefectHTTPStatusError

from engine.deployments import DeploymentSpec, product_deployments
from engine.execution.executor import ABANDONED
from flows.checklist.flow import FLOW_NAME as CHECKLIST_FLOW
from flows.conntrack.flow import FLOW_NAME as CONNTRACK_FLOW
from flows.rollback.flow import FLOW_NAME as ROLLBACK_FLOW
from tests.prefect_runs import create_run_by_hand

#: The flows that change the cluster, whose runs the matrix counts.
CHANGING_FLOWS = (CHECKLIST_FLOW, ROLLBACK_FLOW, CONNTRACK_FLOW)
#: A live engine takes over a run its engine abandoned at its next poll (every 2 s) once it is
#: up; the bench waits this long before it counts such a run as Crashed for good.
TAKEOVER_GRACE = 30.0
#: What the API may raise while Prefect restarts or its database is busy.
UNAVAILABLE = (httpx.HTTPError, PrefectHTTPStatusError, OSError)


def changing_specs() -> tuple[DeploymentSpec, ...]:
    """The deployments of the changing flows (the engines of the matrix serve these only)."""
    return tuple(spec for spec in product_deployments() if spec.flow.name in CHANGING_FLOWS)


async def deployment_ids(client: PrefectClient) -> dict[str, UUID]:
    """The changing flows' deployment ids by ``flow/deployment`` name."""
    return {
        spec.full_name: (await client.read_deployment_by_name(spec.full_name)).id
        for spec in changing_specs()
    }


T = TypeVar("T")


async def patiently(call: Callable[[], Awaitable[T]], *, within: float = 120.0) -> T:
    """Await ``call()`` until it answers, retrying while Prefect is unavailable."""
    deadline = time.monotonic() + within
    while True:
        try:
            return await call()
        except UNAVAILABLE:
            if time.monotonic() > deadline:
                raise
        await asyncio.sleep(0.5)


async def runs_of(client: PrefectClient, deployments: Iterable[UUID]) -> list[FlowRun]:
    """Every run of ``deployments``."""
    only = DeploymentFilter(id=DeploymentFilterId(any_=list(deployments)))
    read = functools.partial(client.read_flow_runs, deployment_filter=only, limit=200)
    runs: list[FlowRun] = []
    while True:
        page: list[FlowRun] = await patiently(functools.partial(read, offset=len(runs)))
        runs += page
        if len(page) < 200:
            return runs


def is_final(run: FlowRun) -> bool:
    """Whether the run is in a final state."""
    return run.state is not None and run.state.is_final()


def is_settled(run: FlowRun, *, now: datetime) -> bool:
    """Whether the run is final and stays so: a run Crashed because its engine went away is
    taken over by a live engine's next poll, so it is settled only `TAKEOVER_GRACE` s later."""
    state = run.state
    if state is None or not state.is_final():
        return False
    if state.type is StateType.CRASHED and (state.message or "").startswith(ABANDONED):
        return (now - state.timestamp).total_seconds() > TAKEOVER_GRACE
    return True


async def settle(
    client: PrefectClient, deployments: Iterable[UUID], *, within: float, quiet: float = 4.0
) -> list[FlowRun]:
    """Wait until every run of ``deployments`` is settled and none changed for ``quiet`` s
    (or ``within`` s passed); the runs then."""
    wanted = list(deployments)
    deadline = time.monotonic() + within
    seen: frozenset[tuple[UUID, str | None]] | None = None
    changed = time.monotonic()
    while True:
        runs = await runs_of(client, wanted)
        now = datetime.now(UTC)
        states = frozenset((run.id, run.state_name) for run in runs)
        if states != seen:
            seen, changed = states, time.monotonic()
        settled = all(is_settled(run, now=now) for run in runs)
        if (settled and time.monotonic() - changed >= quiet) or time.monotonic() > deadline:
            return runs
        await asyncio.sleep(0.5)


async def until(
    client: PrefectClient, run_id: UUID, *, done: Callable[[FlowRun], bool], within: float
) -> FlowRun | None:
    """The run once ``done(run)`` holds; None after ``within`` s."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            run = await client.read_flow_run(run_id)
        except UNAVAILABLE:
            run = None
        if run is not None and done(run):
            return run
        await asyncio.sleep(0.2)
    return None


def is_paused(run: FlowRun) -> bool:
    """Whether the run waits (for an approval)."""
    return run.state is not None and run.state.type is StateType.PAUSED


async def start_run(
    client: PrefectClient, deployment_id: UUID, *, parameters: Mapping[str, Any]
) -> UUID:
    """Create a run as an operator does in the UI; the executor's poller picks it up."""
    run = await patiently(
        lambda: create_run_by_hand(client, deployment_id, parameters=dict(parameters))
    )
    return UUID(str(run.id))


async def approve(client: PrefectClient, run_id: UUID, *, within: float = 60.0) -> bool:
    """Answer the run's approval as the UI's resume form does; whether Prefect accepted it.

    Prefect refuses a resume for a moment after the run suspended (its form's schema is saved
    just after), and answers nothing while it restarts: both are tried again.
    """
    answer = {"approve": True, "by": "fault-bench", "reason": "fault matrix"}
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            result = await client.resume_flow_run(run_id, run_input=answer)
        except UNAVAILABLE:
            await asyncio.sleep(0.5)
            continue
        if result.status.value == "ACCEPT":
            return True
        await asyncio.sleep(0.2)
    return False


async def forget(client: PrefectClient, runs: Iterable[FlowRun]) -> None:
    """Delete the runs, so the next row starts from none (and no cooldown holds it back)."""
    for run in runs:
        try:
            await patiently(functools.partial(client.delete_flow_run, run.id))
        except ObjectNotFound:
            continue
