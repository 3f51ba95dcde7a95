"""The dispatcher's batches against a real Prefect server: few calls, exact runs, early refusals."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from typing import Any
from uuid import UUID

import pytest
from prefect.client.orchestration import PrefectClient
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterTags

from engine.deployments import parameter_checks
from engine.dispatch import batch
from engine.dispatch.bulk_runs import BulkFailure, create_runs
from engine.dispatch.dispatcher import PrefectDispatcher
from engine.handoff import HandoffUnavailableError, RunRejectedError
from tests.engine.alert_requests import run_request
from tests.engine.conftest import SAMPLE_SPECS


@pytest.fixture
async def dispatcher(deployment_ids: dict[str, UUID]) -> AsyncIterator[PrefectDispatcher]:
    """A dispatcher checking parameters itself, without an executor: runs stay Scheduled."""
    dispatcher = PrefectDispatcher(
        deployment_ids, timeout=30, parameter_checks=parameter_checks(SAMPLE_SPECS)
    )
    yield dispatcher
    await dispatcher.aclose()


async def test_forty_alerts_arriving_together_become_forty_runs_in_a_few_batches(
    dispatcher: PrefectDispatcher, prefect_client: PrefectClient
) -> None:
    requests = [run_request() for _ in range(40)]

    handles = await asyncio.gather(*(dispatcher.submit(request) for request in requests))

    assert all(handle.created for handle in handles)
    assert len({handle.flow_run_id for handle in handles}) == 40
    assert dispatcher.batches <= 3  # the first alone, the rest queued behind it
    for request, handle in zip(requests, handles, strict=True):
        run = await prefect_client.read_flow_run(handle.flow_run_id)
        assert run.idempotency_key == request.idempotency_key
        assert run.parameters["marker"] == request.parameters["marker"]


async def test_a_redelivery_of_a_run_seen_persisted_is_answered_without_a_batch(
    dispatcher: PrefectDispatcher,
) -> None:
    request = run_request()
    first = await dispatcher.submit(request)
    sent = dispatcher.batches

    again = await dispatcher.submit(request)

    assert (again.flow_run_id, again.created) == (first.flow_run_id, False)
    assert dispatcher.batches == sent


async def test_a_redelivery_to_a_fresh_replica_finds_the_run_without_creating_one(
    dispatcher: PrefectDispatcher, deployment_ids: dict[str, UUID], prefect_client: PrefectClient
) -> None:
    request = run_request()
    first = await dispatcher.submit(request)
    fresh = PrefectDispatcher(deployment_ids, timeout=30)
    try:
        again = await fresh.submit(request)
    finally:
        await fresh.aclose()

    assert (again.flow_run_id, again.created) == (first.flow_run_id, False)
    tagged = await prefect_client.read_flow_runs(
        flow_run_filter=FlowRunFilter(
            tags=FlowRunFilterTags(all_=[f"fingerprint:{request.alert_fingerprint}"])
        )
    )
    assert [run.id for run in tagged] == [first.flow_run_id]


async def test_parameters_the_flow_would_refuse_are_refused_before_any_run_exists(
    dispatcher: PrefectDispatcher, prefect_client: PrefectClient
) -> None:
    request = run_request()
    bad = type(request)(**{**request.__dict__, "parameters": {"marker": 42}})

    with pytest.raises(RunRejectedError, match="parameter 'marker': 42 is not of type 'string'"):
        await dispatcher.submit(bad)

    assert dispatcher.batches == 0
    tagged = await prefect_client.read_flow_runs(
        flow_run_filter=FlowRunFilter(
            tags=FlowRunFilterTags(all_=[f"fingerprint:{request.alert_fingerprint}"])
        )
    )
    assert tagged == []


async def test_a_good_alert_in_a_batch_is_not_held_back_by_a_bad_one(
    deployment_ids: dict[str, UUID],
) -> None:
    """Without a local check, Prefect refuses the bad run alone; the batch's others are created."""
    dispatcher = PrefectDispatcher(deployment_ids, timeout=30)
    good = run_request()
    bad = type(good)(**{**run_request().__dict__, "parameters": {"marker": 42}})
    try:
        results = await asyncio.gather(
            dispatcher.submit(good), dispatcher.submit(bad), return_exceptions=True
        )
    finally:
        await dispatcher.aclose()

    assert not isinstance(results[0], BaseException)
    assert results[0].created
    assert isinstance(results[1], RunRejectedError)
    assert "marker" in str(results[1])


async def test_runs_prefect_answers_created_but_did_not_persist_are_not_answered_as_runs(
    deployment_ids: dict[str, UUID],
    prefect_client: PrefectClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # What Prefect's bulk create answers when its transaction failed half-way (a deadlock with
    # another replica's): an id per run, of a run that was rolled back.
    async def rolled_back(
        client: PrefectClient, deployment_id: UUID, bodies: Sequence[dict[str, Any]]
    ) -> list[UUID]:
        return [uuid.uuid4() for _ in bodies]

    monkeypatch.setattr(batch, "create_runs", rolled_back)
    request = run_request()

    result = await batch.submit_batch(
        prefect_client,
        [request],
        deployments=deployment_ids,
        writes=asyncio.Lock(),
        deadline=time.monotonic() + 0.3,
    )

    [handle] = result.handles
    assert isinstance(handle, HandoffUnavailableError)
    assert result.new_runs == []


async def test_a_batch_inserts_its_runs_in_key_order_as_every_replica_does(
    deployment_ids: dict[str, UUID],
    prefect_client: PrefectClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Two replicas inserting the same keys in different orders deadlock on PostgreSQL.
    sent: list[str] = []
    create = create_runs

    async def spy(
        client: PrefectClient, deployment_id: UUID, bodies: Sequence[dict[str, Any]]
    ) -> list[UUID | BulkFailure]:
        sent.extend(body["idempotency_key"] for body in bodies)
        return await create(client, deployment_id, bodies)

    monkeypatch.setattr(batch, "create_runs", spy)
    requests = [run_request() for _ in range(12)]

    await batch.submit_batch(
        prefect_client,
        requests,
        deployments=deployment_ids,
        writes=asyncio.Lock(),
        deadline=time.monotonic() + 30,
    )

    assert sent == sorted(request.idempotency_key for request in requests)
