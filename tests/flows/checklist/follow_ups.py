"""Finding the follow-up run a checklist run started for its deferred nodes."""

from __future__ import annotations

import asyncio
import time
from uuid import UUID

from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterTags
from prefect.client.schemas.objects import FlowRun

from flows.run_identity import FOLLOW_UP_OF_TAG
from tests.flows.checklist_engine import ChecklistEngine


async def follow_up_runs(engine: ChecklistEngine, parent: UUID) -> list[FlowRun]:
    """The runs started as follow-ups of `parent`."""
    return await engine.client.read_flow_runs(
        flow_run_filter=FlowRunFilter(tags=FlowRunFilterTags(all_=[f"{FOLLOW_UP_OF_TAG}{parent}"]))
    )


async def follow_up_of(engine: ChecklistEngine, parent: UUID, *, within: float = 30) -> FlowRun:
    """The one follow-up run of `parent`, once it exists."""
    deadline = time.monotonic() + within
    while True:
        runs = await follow_up_runs(engine, parent)
        if runs:
            [run] = runs
            return run
        assert time.monotonic() < deadline, f"no follow-up of {parent} after {within}s"
        await asyncio.sleep(0.2)
