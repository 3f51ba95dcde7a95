"""The dispatcher while its Prefect server is down: unavailable, then the retry creates the run."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from prefect.client.orchestration import PrefectClient
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterTags
from prefect.settings import PREFECT_API_URL, temporary_settings

from engine.deployments import register_deployments
from engine.dispatch import batch
from engine.dispatch.bulk_runs import BulkFailure
from engine.dispatch.dispatcher import PrefectDispatcher
from engine.handoff import HandoffUnavailableError
from engine.prefect_server import PrefectServer
from tests.engine.alert_requests import run_request
from tests.engine.conftest import SAMPLE_SPECS
from tests.engine.dispatch.test_prefect_errors import SQLITE_LOCKED


async def test_submit_while_prefect_is_down_is_unavailable_and_the_retry_creates_the_run(
    tmp_path: Path,
) -> None:
    server = PrefectServer(tmp_path / "outage-server")
    server.start()
    try:
        with temporary_settings(updates={PREFECT_API_URL: server.api_url}):
            deployment_ids = await register_deployments(SAMPLE_SPECS[:1])
        dispatcher = PrefectDispatcher(deployment_ids, api_url=server.api_url, timeout=3)
        request = run_request()
        await dispatcher.check_ready()

        server.stop()
        with pytest.raises(HandoffUnavailableError):
            await dispatcher.check_ready()
        with pytest.raises(HandoffUnavailableError):
            await dispatcher.submit(request)

        server.start()
        handle = await dispatcher.submit(request)
        await dispatcher.aclose()

        assert handle.created
        async with PrefectClient(server.api_url) as client:
            runs = await client.read_flow_runs(
                flow_run_filter=FlowRunFilter(
                    tags=FlowRunFilterTags(all_=[f"fingerprint:{request.alert_fingerprint}"])
                )
            )
        assert [run.id for run in runs] == [handle.flow_run_id]
    finally:
        server.stop()


#: What Prefect's bulk create answers for a run SQLite's single writer kept out (Prefect 3, str of
#: SQLAlchemy's error): the statement and its parameters, alert data included.
async def test_a_database_locked_for_the_whole_handoff_is_unavailable_in_words_not_in_sql(
    deployment_ids: dict[str, UUID],
    prefect_client: PrefectClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def locked(
        client: PrefectClient, deployment_id: UUID, bodies: Sequence[dict[str, Any]]
    ) -> list[UUID | BulkFailure]:
        return [BulkFailure(SQLITE_LOCKED, permanent=False) for _ in bodies]

    monkeypatch.setattr(batch, "create_runs", locked)

    result = await batch.submit_batch(
        prefect_client,
        [run_request()],
        deployments=deployment_ids,
        writes=asyncio.Lock(),
        deadline=time.monotonic() + 0.3,
    )

    [handle] = result.handles
    assert isinstance(handle, HandoffUnavailableError)
    assert str(handle) == "Prefect created no run: the database is busy (SQLite locked)"
