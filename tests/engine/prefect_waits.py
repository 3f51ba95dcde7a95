"""Bounded waits on real Prefect flow runs, for the engine tests."""

from __future__ import annotations

import asyncio
import time
from uuid import UUID

from prefect.client.orchestration import PrefectClient
from prefect.client.schemas.objects import FlowRun

from tests.engine.sample_flows import executions_of


async def wait_until_final(client: PrefectClient, flow_run_id: UUID, within: float = 30) -> FlowRun:
    """Read the run until its state is final; fail the test after ``within`` seconds."""
    deadline = time.monotonic() + within
    while True:
        flow_run = await client.read_flow_run(flow_run_id)
        if flow_run.state is not None and flow_run.state.is_final():
            return flow_run
        if time.monotonic() > deadline:
            raise AssertionError(f"run {flow_run_id} not final after {within}s: {flow_run.state}")
        await asyncio.sleep(0.1)


async def wait_for_execution(marker: str, within: float = 20) -> None:
    """Wait (bounded) until a sample flow recorded an execution with ``marker``."""
    async with asyncio.timeout(within):
        while True:
            if executions_of(marker):
                return
            await asyncio.sleep(0.05)
