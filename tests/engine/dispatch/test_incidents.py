"""Alerts joining an open incident at the door, on a real Prefect server: no run, one record."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime
from typing import cast
from uuid import UUID

import pytest
from prefect.client.orchestration import PrefectClient
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterTags
from prefect.client.schemas.objects import FlowRun
from prefect.states import Completed

from engine.dispatch.dispatcher import PrefectDispatcher
from engine.dispatch.incidents import OpenIncidents
from engine.handoff import RunHandle, RunRequest
from flows.incident import ledger
from flows.incident.records import Incident
from tests.engine.alert_requests import run_request
from tests.incident_owner import own_kube_proxy_incident

RECORD = "engine-test-record/engine-test-record"
KUBE_PROXY = "kube-proxy"


def joining() -> RunRequest:
    """A ServiceDown-like alert whose runbook joins kube-proxy incidents."""
    return replace(run_request(), joins_incident=KUBE_PROXY)


@pytest.fixture
def cluster() -> str:
    """A cluster of its own for each test: its incidents are no other test's."""
    return uuid.uuid4().hex[:12]


@pytest.fixture
async def owner(prefect_client: PrefectClient, deployment_ids: dict[str, UUID]) -> FlowRun:
    """A live run (Scheduled) to own incidents."""
    return await prefect_client.create_flow_run_from_deployment(
        deployment_ids[RECORD], parameters={"marker": "owner"}
    )


@pytest.fixture
def incident(cluster: str, owner: FlowRun) -> Incident:
    """The open kube-proxy incident of `cluster`, owned by `owner`."""
    return own_kube_proxy_incident(
        cluster, owner, cause="kube-proxy needs a restart on 2 node(s): node-2, node-3"
    )


@pytest.fixture
async def dispatcher(
    deployment_ids: dict[str, UUID], cluster: str
) -> AsyncIterator[PrefectDispatcher]:
    """A dispatcher for `cluster`, without an executor."""
    dispatcher = PrefectDispatcher(deployment_ids, cluster=cluster)
    yield dispatcher
    await dispatcher.aclose()


async def runs_of(client: PrefectClient, request: RunRequest) -> list[FlowRun]:
    return await client.read_flow_runs(
        flow_run_filter=FlowRunFilter(
            tags=FlowRunFilterTags(all_=[f"fingerprint:{request.alert_fingerprint}"])
        )
    )


async def test_alerts_joining_an_open_incident_start_no_run_and_are_recorded_for_its_owner(
    dispatcher: PrefectDispatcher, prefect_client: PrefectClient, incident: Incident
) -> None:
    requests = [joining() for _ in range(30)]

    handles = [await dispatcher.submit(request) for request in requests[:2]]
    handles += await _all(dispatcher, requests[2:])

    assert {handle.flow_run_id for handle in handles} == {UUID(incident.owner_run_id)}
    assert all(handle.joined and not handle.created for handle in handles)
    assert "kube-proxy incident of run" in (handles[0].joined or "")
    for request in requests[:3]:
        assert await runs_of(prefect_client, request) == []
    joins = ledger.read_joins(incident.owner_run_id)
    assert sorted(j.idempotency_key for j in joins) == sorted(r.idempotency_key for r in requests)
    assert {j.runbook for j in joins} == {"kube-proxy-down"}
    assert all(j.run_id is None and j.deployment == RECORD for j in joins)


async def test_an_alert_whose_runbook_joins_no_incident_starts_its_run_during_one(
    dispatcher: PrefectDispatcher, incident: Incident
) -> None:
    handle = await dispatcher.submit(run_request())

    assert handle.created
    assert handle.joined is None
    assert ledger.read_joins(incident.owner_run_id) == []


async def test_once_its_owner_closed_the_incident_alerts_start_their_own_runs(
    dispatcher: PrefectDispatcher, incident: Incident
) -> None:
    ledger.close_incident(incident, outcome="recovered")

    handle = await dispatcher.submit(joining())

    assert handle.created
    assert handle.joined is None


async def test_an_incident_whose_owner_run_ended_is_not_joined(
    dispatcher: PrefectDispatcher, prefect_client: PrefectClient, incident: Incident
) -> None:
    await prefect_client.set_flow_run_state(UUID(incident.owner_run_id), Completed(), force=True)

    handle = await dispatcher.submit(joining())

    assert handle.created


async def test_another_clusters_incident_is_not_joined(
    deployment_ids: dict[str, UUID], incident: Incident
) -> None:
    elsewhere = PrefectDispatcher(deployment_ids, cluster=uuid.uuid4().hex[:12])
    try:
        handle = await elsewhere.submit(joining())
    finally:
        await elsewhere.aclose()

    assert handle.created


async def test_without_a_cluster_key_every_alert_starts_its_run(
    deployment_ids: dict[str, UUID], incident: Incident
) -> None:
    plain = PrefectDispatcher(deployment_ids)
    try:
        handle = await plain.submit(joining())
    finally:
        await plain.aclose()

    assert handle.created


async def _all(dispatcher: PrefectDispatcher, requests: list[RunRequest]) -> list[RunHandle]:
    """Submit them all at once (they share batches)."""
    return list(await asyncio.gather(*(dispatcher.submit(r) for r in requests)))


class Reads:
    """A stand-in for Prefect's answers about open incidents: one per read, counted."""

    def __init__(self) -> None:
        self.count = 0
        self.gate = asyncio.Event()
        self.gate.set()
        self.none_open = False

    async def __call__(self, client: PrefectClient, cluster: str) -> dict[str, Incident]:
        self.count += 1
        answer = self.count
        await self.gate.wait()
        return {} if self.none_open else {f"read-{answer}": _incident(cluster)}


def _incident(cluster: str) -> Incident:
    return Incident(
        cluster=cluster,
        shared=KUBE_PROXY,
        owner_run_id=str(uuid.uuid4()),
        owner_run_name="owner",
        cause="kube-proxy needs a restart",
        opened_at=datetime.now(UTC),
    )


@pytest.fixture
def clock() -> list[float]:
    """A monotonic clock the test moves by hand."""
    return [100.0]


@pytest.fixture
def reads() -> Reads:
    return Reads()


@pytest.fixture
def open_incidents(clock: list[float], reads: Reads) -> OpenIncidents:
    return OpenIncidents(
        "c1",
        fresh_seconds=1.0,
        fresh_seconds_while_none=0.2,
        stale_seconds=5.0,
        clock=lambda: clock[0],
        reader=reads,
    )


CLIENT = cast(PrefectClient, None)  # the stand-in reader never uses it


async def test_a_fresh_read_serves_the_batches_that_follow_it_unasked(
    open_incidents: OpenIncidents, reads: Reads, clock: list[float]
) -> None:
    first = await open_incidents.read(CLIENT)
    clock[0] += 0.9

    assert await open_incidents.read(CLIENT) is first
    assert reads.count == 1


async def test_a_read_that_found_none_open_is_fresh_for_a_fifth_of_a_second_only(
    open_incidents: OpenIncidents, reads: Reads, clock: list[float]
) -> None:
    reads.none_open = True
    assert await open_incidents.read(CLIENT) == {}
    clock[0] += 0.1
    await open_incidents.read(CLIENT)
    assert reads.count == 1

    reads.none_open = False  # the first run claims its incident
    clock[0] += 0.2
    await open_incidents.read(CLIENT)  # still answers none, and looks again meanwhile
    await asyncio.sleep(0.01)

    assert list(await open_incidents.read(CLIENT)) == ["read-2"]
    assert reads.count == 2


async def test_an_older_read_answers_at_once_while_the_next_is_made_in_the_background(
    open_incidents: OpenIncidents, reads: Reads, clock: list[float]
) -> None:
    first = await open_incidents.read(CLIENT)
    clock[0] += 2.0
    reads.gate.clear()  # Prefect slow to answer

    assert await open_incidents.read(CLIENT) is first
    assert await open_incidents.read(CLIENT) is first  # one read under way, not two
    reads.gate.set()
    await asyncio.sleep(0.01)  # the background read finishes

    assert list(await open_incidents.read(CLIENT)) == ["read-2"]
    assert reads.count == 2


async def test_a_read_older_than_stale_is_made_again_before_the_batch_goes_on(
    open_incidents: OpenIncidents, reads: Reads, clock: list[float]
) -> None:
    await open_incidents.read(CLIENT)
    clock[0] += 5.0

    assert list(await open_incidents.read(CLIENT)) == ["read-2"]


async def test_after_forget_the_next_batch_reads_and_a_read_under_way_is_not_kept(
    open_incidents: OpenIncidents, reads: Reads, clock: list[float]
) -> None:
    await open_incidents.read(CLIENT)
    clock[0] += 2.0
    reads.gate.clear()
    await open_incidents.read(CLIENT)  # read 2 starts in the background
    await asyncio.sleep(0)

    open_incidents.forget()  # an incident was found closed
    reads.gate.set()
    await asyncio.sleep(0.01)  # read 2 finishes, after the forget

    assert list(await open_incidents.read(CLIENT)) == ["read-3"]
    await open_incidents.aclose()
