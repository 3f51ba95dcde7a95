"""The Prefect dispatcher against a real Prefect server: one run per key, resolutions, health."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from uuid import UUID

import pytest
from prefect.client.orchestration import PrefectClient
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterTags
from prefect.client.schemas.objects import StateType

from engine.dispatch.dispatcher import PrefectDispatcher, UnknownDeploymentError, resolved_message
from engine.handoff import RunDispatcher, RunRejectedError
from tests.engine.alert_requests import resolved, run_request

RECORD = "engine-test-record/engine-test-record"


@pytest.fixture
async def dispatcher(deployment_ids: dict[str, UUID]) -> AsyncIterator[PrefectDispatcher]:
    """A dispatcher without an executor: its runs stay Scheduled."""
    dispatcher = PrefectDispatcher(deployment_ids)
    yield dispatcher
    await dispatcher.aclose()


async def runs_tagged(client: PrefectClient, tag: str) -> list[UUID]:
    found = await client.read_flow_runs(
        flow_run_filter=FlowRunFilter(tags=FlowRunFilterTags(all_=[tag]))
    )
    return [run.id for run in found]


async def test_submit_creates_one_run_with_the_alerts_parameters_and_tags(
    dispatcher: PrefectDispatcher, prefect_client: PrefectClient, deployment_ids: dict[str, UUID]
) -> None:
    request = run_request(concurrency_key="kube-system/kube-proxy")

    handle = await dispatcher.submit(request)

    assert handle.created
    run = await prefect_client.read_flow_run(handle.flow_run_id)
    assert run.deployment_id == deployment_ids[RECORD]
    assert run.idempotency_key == request.idempotency_key
    assert run.parameters == {"marker": request.parameters["marker"], "note": "from the deployment"}
    assert {
        "alert:KubeProxyDown",
        f"fingerprint:{request.alert_fingerprint}",
        "runbook:kube-proxy-down",
        "target:kube-system/kube-proxy",
        "engine-test",
    } <= set(run.tags)
    assert run.labels["alert.namespace"] == "kube-system"
    assert run.state_type == StateType.SCHEDULED
    assert await runs_tagged(prefect_client, f"fingerprint:{request.alert_fingerprint}") == [run.id]


async def test_a_repeated_submit_returns_the_same_run_marked_not_created(
    dispatcher: PrefectDispatcher, prefect_client: PrefectClient
) -> None:
    request = run_request()

    first = await dispatcher.submit(request)
    again = await dispatcher.submit(request)

    assert (first.created, again.created) == (True, False)
    assert again.flow_run_id == first.flow_run_id
    assert await runs_tagged(prefect_client, f"fingerprint:{request.alert_fingerprint}") == [
        first.flow_run_id
    ]


async def test_twenty_concurrent_submits_from_two_replicas_create_exactly_one_run(
    deployment_ids: dict[str, UUID], prefect_client: PrefectClient
) -> None:
    request = run_request()
    replicas = [
        PrefectDispatcher(deployment_ids, timeout=30),
        PrefectDispatcher(deployment_ids, timeout=30),
    ]
    try:
        handles = await asyncio.gather(*(replicas[i % 2].submit(request) for i in range(20)))
    finally:
        for replica in replicas:
            await replica.aclose()

    assert len({handle.flow_run_id for handle in handles}) == 1
    assert sorted(handle.created for handle in handles) == [False] * 19 + [True]
    assert await runs_tagged(prefect_client, f"fingerprint:{request.alert_fingerprint}") == [
        handles[0].flow_run_id
    ]


async def test_resolve_cancels_the_waiting_run_and_records_the_resolution(
    dispatcher: PrefectDispatcher, prefect_client: PrefectClient
) -> None:
    request = run_request()
    handle = await dispatcher.submit(request)
    assert await dispatcher.is_alert_firing(request.alert_fingerprint, request.alert_starts_at)

    cancelled = await dispatcher.resolve(resolved(request))

    assert cancelled == [handle.flow_run_id]
    run = await prefect_client.read_flow_run(handle.flow_run_id)
    assert run.state is not None
    assert run.state.is_cancelled()
    assert run.state.message is not None
    assert "KubeProxyDown resolved at 2025-11-25T09:34:00+00:00" in run.state.message
    assert not await dispatcher.is_alert_firing(request.alert_fingerprint, request.alert_starts_at)


async def test_a_repeated_resolve_cancels_nothing_more_and_keeps_the_record(
    dispatcher: PrefectDispatcher,
) -> None:
    request = run_request()
    await dispatcher.submit(request)
    await dispatcher.resolve(resolved(request))

    assert await dispatcher.resolve(resolved(request)) == []
    assert not await dispatcher.is_alert_firing(request.alert_fingerprint, request.alert_starts_at)


async def test_resolve_leaves_runs_of_other_alerts_alone(
    dispatcher: PrefectDispatcher, prefect_client: PrefectClient
) -> None:
    other = await dispatcher.submit(run_request())

    await dispatcher.resolve(resolved(run_request()))

    run = await prefect_client.read_flow_run(other.flow_run_id)
    assert run.state_type == StateType.SCHEDULED


async def test_check_ready_passes_while_prefect_answers(dispatcher: PrefectDispatcher) -> None:
    contract: RunDispatcher = dispatcher  # what the receiver holds; mypy checks the Protocol

    await contract.check_ready()


async def test_a_request_for_an_unregistered_deployment_is_refused(
    dispatcher: PrefectDispatcher,
) -> None:
    with pytest.raises(UnknownDeploymentError, match="no-such-flow/no-such-deployment"):
        await dispatcher.submit(run_request("no-such-flow/no-such-deployment"))


async def test_parameters_missing_what_the_flow_requires_are_refused_as_a_catalog_error(
    dispatcher: PrefectDispatcher,
) -> None:
    request = replace(run_request(), parameters={"note": "no marker"})

    with pytest.raises(RunRejectedError, match="'marker' is a required property"):
        await dispatcher.submit(request)


def test_a_cancelled_run_says_its_alert_resolved_and_when() -> None:
    assert resolved_message(resolved(run_request())) == (
        "Alert KubeProxyDown resolved at 2025-11-25T09:34:00+00:00; not needed."
    )
