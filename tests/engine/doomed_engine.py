"""An engine process for a test to SIGKILL: it executes the given runs, then waits to be killed.

Run as ``python -m tests.engine.doomed_engine RUN_ID...`` with ``PREFECT_API_URL`` set; it prints
``executing`` once it has launched them.
"""

from __future__ import annotations

import asyncio
import sys
from uuid import UUID

from prefect.client.orchestration import get_client

from engine.deployments import flows_by_deployment, register_deployments
from engine.execution.executor import WarmExecutor
from tests.engine.conftest import SAMPLE_SPECS


async def execute_until_killed(run_ids: list[UUID]) -> None:
    """Launch ``run_ids`` on a warm executor (heartbeats every 30 s) and never return."""
    deployment_ids = await register_deployments(SAMPLE_SPECS)
    executor = WarmExecutor(flows_by_deployment(SAMPLE_SPECS, deployment_ids), heartbeat_seconds=30)
    await executor.start(poll=False)
    async with get_client() as client:
        for run_id in run_ids:
            executor.launch(await client.read_flow_run(run_id))
    print("executing", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(execute_until_killed([UUID(argument) for argument in sys.argv[1:]]))
