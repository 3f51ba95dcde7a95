"""The incident ledger on a real Prefect server: one owner per incident, joins read once each."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest
from prefect.client.orchestration import PrefectClient
from prefect.client.schemas.objects import FlowRunInput, Variable
from prefect.states import Cancelled, Completed

from engine.deployments import DeploymentSpec, register_deployments
from engine.dispatch.alert_record import AlertResolution, record_resolution
from flows.incident import ledger, records
from flows.incident.records import (
    JOIN_PREFIX,
    Incident,
    IncidentStatus,
    JoinedAlert,
    marker_name,
    pack_joins,
)
from runbooks.model import SharedObject
from tests.engine.sample_flows import record_flow
from tests.prefect_runs import create_run_by_hand

KUBE_PROXY = SharedObject.KUBE_PROXY.value
OPENED_AT = datetime(2025, 11, 25, 9, 31, tzinfo=UTC)
STARTS_AT = datetime(2025, 11, 25, 9, 30, 5, tzinfo=UTC)
CLAIMERS = 10

#: A deployment of its own: no executor of another suite ever runs (or takes over) its runs.
LEDGER_SPEC = DeploymentSpec(
    flow=record_flow,
    name="incident-ledger-test",
    description="Runs that own or join incidents (incident ledger tests); never executed.",
)

StartRun = Callable[[], Awaitable[str]]


@pytest.fixture(scope="session")
def ledger_deployment(prefect_api_url: str) -> UUID:
    """The sample record flow registered as a deployment whose runs stay Scheduled."""
    ids = asyncio.run(register_deployments([LEDGER_SPEC]))
    return ids[LEDGER_SPEC.full_name]


@pytest.fixture
async def start_run(
    prefect_client: PrefectClient, ledger_deployment: UUID
) -> AsyncIterator[StartRun]:
    """Create live (Scheduled) runs to own incidents; each is cancelled when the test ends."""
    started: list[UUID] = []

    async def start() -> str:
        run = await create_run_by_hand(
            prefect_client, ledger_deployment, parameters={"marker": "incident-ledger"}
        )
        started.append(run.id)
        return str(run.id)

    yield start
    for run_id in started:
        await prefect_client.set_flow_run_state(run_id, Cancelled(), force=True)


@pytest.fixture
def cluster() -> str:
    """A cluster key of the test's own, so no test sees another's markers."""
    return uuid.uuid4().hex[:12]


def proposal(cluster: str, owner_run_id: str, *, opened_at: datetime = OPENED_AT) -> Incident:
    """The kube-proxy incident `owner_run_id` proposes to own in `cluster`."""
    return Incident(
        cluster=cluster,
        shared=KUBE_PROXY,
        owner_run_id=owner_run_id,
        owner_run_name=f"checklist-{owner_run_id[:8]}",
        cause="kube-proxy needs a restart on 1 node(s): node-2",
        opened_at=opened_at,
    )


def joining(
    *,
    run_id: str | None = None,
    fingerprint: str | None = None,
    joined_at: datetime = OPENED_AT,
    starts_at: datetime = STARTS_AT,
) -> JoinedAlert:
    """An alert of ``shop/web`` (a fresh fingerprint unless given) joining an incident."""
    fingerprint = fingerprint or uuid.uuid4().hex[:16]
    return JoinedAlert(
        alertname="ServiceDown",
        fingerprint=fingerprint,
        starts_at=starts_at,
        runbook="service-down",
        deployment="service-checklist/service-checklist",
        parameters={"namespace": "shop", "service": "web"},
        tags=["alert:ServiceDown", "runbook:service-down"],
        labels={"alert.fingerprint": fingerprint},
        idempotency_key=f"{fingerprint}-20251125t093005z",
        joined_at=joined_at,
        run_id=run_id,
    )


async def marker(client: PrefectClient, cluster: str) -> Variable | None:
    """The kube-proxy incident marker of `cluster`, if there is one."""
    return await client.read_variable_by_name(marker_name(cluster, KUBE_PROXY))


async def marked_incident(client: PrefectClient, cluster: str) -> Incident:
    """The kube-proxy incident the marker of `cluster` describes."""
    found = await marker(client, cluster)
    assert found is not None
    return Incident.model_validate(found.value)


async def join_records(client: PrefectClient, owner_run_id: str) -> list[FlowRunInput]:
    """The join records written for the incident `owner_run_id` owns (its run's inputs)."""
    return await client.filter_flow_run_input(
        UUID(owner_run_id), JOIN_PREFIX, limit=1000, exclude_keys=set()
    )


async def test_of_ten_runs_claiming_at_once_one_owns_and_nine_find_it(
    start_run: StartRun, prefect_client: PrefectClient, cluster: str
) -> None:
    runs = [await start_run() for _ in range(CLAIMERS)]
    barrier = threading.Barrier(CLAIMERS, timeout=60)

    def claim_at_once(run_id: str) -> ledger.Claim:
        barrier.wait()
        return ledger.claim_incident(proposal(cluster, run_id))

    with ThreadPoolExecutor(max_workers=CLAIMERS) as pool:
        claims = list(pool.map(claim_at_once, runs))

    (owner,) = [run for run, claim in zip(runs, claims, strict=True) if claim.owned]
    assert [claim.incident.owner_run_id for claim in claims] == [owner] * CLAIMERS
    assert (await marked_incident(prefect_client, cluster)).owner_run_id == owner


async def test_the_owner_claiming_again_still_owns_its_incident(
    start_run: StartRun, cluster: str
) -> None:
    owner = await start_run()
    first = ledger.claim_incident(proposal(cluster, owner))

    again = ledger.claim_incident(
        proposal(cluster, owner, opened_at=OPENED_AT + timedelta(minutes=5))
    )

    assert first.owned
    assert again.owned
    assert again.incident == first.incident


async def test_a_claimer_finds_the_live_owner_and_does_not_own(
    start_run: StartRun, cluster: str
) -> None:
    owner, other = await start_run(), await start_run()
    ledger.claim_incident(proposal(cluster, owner))

    claim = ledger.claim_incident(proposal(cluster, other))

    assert not claim.owned
    assert claim.incident == proposal(cluster, owner)
    assert claim.incident.status is IncidentStatus.OPEN


async def test_a_follow_up_takes_its_parents_open_incident_over_instead_of_joining_it(
    start_run: StartRun, cluster: str
) -> None:
    parent, follow_up, other = await start_run(), await start_run(), await start_run()
    ledger.claim_incident(proposal(cluster, parent))

    claim = ledger.claim_incident(proposal(cluster, follow_up), successor_of=parent)
    later = ledger.claim_incident(proposal(cluster, other), successor_of=parent)

    assert claim.owned
    assert claim.incident == proposal(cluster, follow_up)
    assert not later.owned
    assert later.incident.owner_run_id == follow_up


async def test_after_the_owner_closes_its_incident_the_next_claimer_takes_over(
    start_run: StartRun, prefect_client: PrefectClient, cluster: str
) -> None:
    owner, next_run = await start_run(), await start_run()
    incident = ledger.claim_incident(proposal(cluster, owner)).incident

    closed = ledger.close_incident(incident, outcome="mitigated")
    closed_marker = await marker(prefect_client, cluster)
    claim = ledger.claim_incident(proposal(cluster, next_run))

    assert (closed.status, closed.outcome) == (IncidentStatus.CLOSED, "mitigated")
    assert closed_marker is not None
    assert Incident.model_validate(closed_marker.value) == closed
    assert claim.owned
    assert claim.incident == proposal(cluster, next_run)
    taken_over = await marker(prefect_client, cluster)
    assert taken_over is not None
    assert taken_over.id != closed_marker.id
    assert Incident.model_validate(taken_over.value) == proposal(cluster, next_run)


async def test_closing_a_closed_incident_changes_nothing(
    start_run: StartRun, prefect_client: PrefectClient, cluster: str
) -> None:
    owner = await start_run()
    incident = ledger.claim_incident(proposal(cluster, owner)).incident
    closed = ledger.close_incident(incident, outcome="mitigated")

    again = ledger.close_incident(closed, outcome="mitigated")

    assert again == closed
    assert await marked_incident(prefect_client, cluster) == closed


async def test_an_incident_whose_owner_run_ended_is_taken_over(
    start_run: StartRun, prefect_client: PrefectClient, cluster: str
) -> None:
    owner, next_run = await start_run(), await start_run()
    ledger.claim_incident(proposal(cluster, owner))
    await prefect_client.set_flow_run_state(owner, Completed(), force=True)

    claim = ledger.claim_incident(proposal(cluster, next_run))

    assert claim.owned
    assert (await marked_incident(prefect_client, cluster)).owner_run_id == next_run


async def test_an_incident_whose_owner_run_is_gone_is_taken_over(
    start_run: StartRun, prefect_client: PrefectClient, cluster: str
) -> None:
    next_run = await start_run()
    ledger.claim_incident(proposal(cluster, str(uuid.uuid4())))

    claim = ledger.claim_incident(proposal(cluster, next_run))

    assert claim.owned
    assert (await marked_incident(prefect_client, cluster)).owner_run_id == next_run


async def test_a_run_releases_only_its_own_marker_not_a_newer_owners(
    start_run: StartRun, prefect_client: PrefectClient, cluster: str
) -> None:
    first, second = await start_run(), await start_run()
    incident = ledger.claim_incident(proposal(cluster, first)).incident
    closed = ledger.close_incident(incident, outcome="mitigated")
    newer = ledger.claim_incident(proposal(cluster, second)).incident

    ledger.release_incident(closed)
    ledger.close_incident(incident, outcome="mitigated")

    assert await marked_incident(prefect_client, cluster) == newer
    ledger.release_incident(newer)
    assert await marker(prefect_client, cluster) is None


async def test_a_run_joining_twice_writes_one_join(
    start_run: StartRun, prefect_client: PrefectClient, cluster: str
) -> None:
    owner, joiner = await start_run(), await start_run()
    incident = ledger.claim_incident(proposal(cluster, owner)).incident
    alert = joining(run_id=joiner)

    ledger.join_incident(incident, alert)
    ledger.join_incident(incident, alert)

    assert len(await join_records(prefect_client, owner)) == 1
    assert ledger.read_joins(owner) == [alert]


async def test_joins_are_read_past_a_page_once_each_earliest_first_and_only_their_own(
    start_run: StartRun, cluster: str
) -> None:
    owner, other_owner = await start_run(), await start_run()
    incident = ledger.claim_incident(proposal(cluster, owner)).incident
    other = proposal(uuid.uuid4().hex[:12], other_owner)
    count = ledger.PAGE + 5
    alerts = [
        joining(
            run_id=f"{index:08x}-{uuid.uuid4()}",
            joined_at=OPENED_AT + timedelta(seconds=count - index),
        )
        for index in range(count)
    ]

    for alert in alerts:
        ledger.join_incident(incident, alert)
    ledger.join_incident(other, joining(run_id=str(uuid.uuid4())))

    assert ledger.read_joins(owner) == sorted(alerts, key=lambda alert: alert.joined_at)


async def test_a_reader_that_keeps_the_records_it_read_is_given_only_those_written_since(
    start_run: StartRun, cluster: str
) -> None:
    owner = await start_run()
    incident = ledger.claim_incident(proposal(cluster, owner)).incident
    ledger.join_incident(incident, joining())
    read = ledger.read_join_records(owner)

    later = joining()
    ledger.join_incident(incident, later)
    since = ledger.read_join_records(owner, known=read.keys())

    assert len(read) == 1
    assert list(since.values()) == [pack_joins([later])]


async def test_the_owners_reader_reads_every_join_and_parses_only_the_new_records(
    start_run: StartRun, cluster: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    owner = await start_run()
    incident = ledger.claim_incident(proposal(cluster, owner)).incident
    first, later = joining(), joining(joined_at=OPENED_AT + timedelta(seconds=5))
    ledger.join_incident(incident, first)
    reader = ledger.JoinReader(owner)
    assert reader.read() == [first]

    ledger.join_incident(incident, later)
    parsed: list[str] = []
    unpack = records.unpack_record

    def counted(text: str) -> list[JoinedAlert]:
        parsed.append(text)
        return unpack(text)

    monkeypatch.setattr(ledger, "unpack_record", counted)

    assert reader.read() == [first, later] == ledger.read_joins(owner)
    assert parsed == [pack_joins([later])]


async def test_resolutions_are_read_for_the_resolved_episodes_only(
    prefect_client: PrefectClient,
) -> None:
    resolved, firing = joining(), joining()
    next_episode = joining(
        fingerprint=resolved.fingerprint, starts_at=STARTS_AT + timedelta(hours=2)
    )
    ends_at = STARTS_AT + timedelta(minutes=7)
    await record_resolution(
        prefect_client,
        AlertResolution(
            alertname=resolved.alertname,
            fingerprint=resolved.fingerprint,
            starts_at=resolved.starts_at,
            ends_at=ends_at,
        ),
    )

    found = ledger.read_resolutions([resolved, firing, next_episode])

    assert found == {(resolved.fingerprint, STARTS_AT): ends_at}


def test_no_alerts_have_no_resolutions(prefect_api_url: str) -> None:
    assert ledger.read_resolutions([]) == {}
