"""Runs started by hand in tests, as an operator starts them from the Prefect UI."""

from __future__ import annotations

import asyncio
import random
import time
from typing import Any
from uuid import UUID

import httpx
from prefect.client.orchestration import PrefectClient
from prefect.client.schemas.objects import FlowRun
from prefect.exceptions import PrefectHTTPStatusError
from prefect.settings import PREFECT_CLIENT_MAX_RETRIES, temporary_settings

from engine.settings import EngineSettings

BUSY_RETRY_SECONDS = 60.0


async def create_run_by_hand(client: PrefectClient, deployment_id: UUID, **options: Any) -> FlowRun:
    """Create a run of the deployment, trying again at once while SQLite is busy.

    Prefect's SQLite server answers 503 when another writer commits between the reads and the
    insert of a create (its transactions are deferred). Prefect's client then backs off 2, 4,
    8, ... s, so a shared test server with flows running can fail all six of its tries; short
    jittered retries (as the dispatcher makes) ride it out.

    Args:
        client: A client on the test's Prefect server.
        deployment_id: The deployment to run.
        **options: What ``create_flow_run_from_deployment`` takes (parameters, tags, labels).

    Returns:
        The run, Scheduled.
    """
    deadline = time.monotonic() + BUSY_RETRY_SECONDS
    # Settings are a context variable: this turns the client's own back-off off for this call only.
    with temporary_settings({PREFECT_CLIENT_MAX_RETRIES: 0}):
        while True:
            try:
                return await client.create_flow_run_from_deployment(deployment_id, **options)
            except PrefectHTTPStatusError as exc:
                if exc.response.status_code != 503 or time.monotonic() > deadline:
                    raise
            except (httpx.ReadError, httpx.RemoteProtocolError):
                # A kept-alive connection the server closed as the request went out (the
                # client's own retries, off here, would cover it). Sent again only when the
                # run has an idempotency key: a create the server did make is then found.
                if "idempotency_key" not in options or time.monotonic() > deadline:
                    raise
            await asyncio.sleep(random.uniform(0.02, 0.2))


def prefect_start_timeout() -> float:
    """How long tests wait for a fresh Prefect server: the engine's setting, generous by default.

    ``RUNBOOKS_PREFECT_START_TIMEOUT_SECONDS`` raises it on a slow or busy machine.
    """
    return EngineSettings().prefect_start_timeout_seconds
