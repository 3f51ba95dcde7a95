"""An incident's waiting request, on a real Prefect server: it stands while a joined alert fires."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest
from prefect.client.orchestration import PrefectClient
from prefect.client.schemas.objects import FlowRun
from prefect.states import Cancelled

from engine.approvals.coverage import CoverageRefresher
from engine.deployments import DeploymentSpec, register_deployments
from engine.dispatch.alert_record import AlertResolution, record_resolution
from flows.approval.notifier import LogNotifier
from flows.incident import ledger
from flows.incident.records import Incident, JoinedAlert
from tests.engine.sample_flows import record_flow
from tests.incident_owner import own_kube_proxy_incident
from tests.prefect_runs import create_run_by_hand

STARTS_AT = datetime(2025, 11, 25, 9, 30, 5, tzinfo=UTC)
#: A deployment of its own: no executor of another test file runs (or deletes) its runs.
OWNERS = DeploymentSpec(
    flow=record_flow,
    name="incident-coverage-test",
    description="Runs that own incidents (coverage tests); never executed.",
)


@pytest.fixture(scope="session")
def owners_deployment(prefect_api_url: str) -> UUID:
    """The deployment whose runs own this file's incidents."""
    return asyncio.run(register_deployments([OWNERS]))[OWNERS.full_name]


@pytest.fixture
async def owner(prefect_client: PrefectClient, owners_deployment: UUID) -> AsyncIterator[FlowRun]:
    """A live (Scheduled) run owning the open kube-proxy incident of a cluster of its own."""
    run = await create_run_by_hand(prefect_client, owners_deployment, parameters={"marker": "x"})
    yield run
    await prefect_client.set_flow_run_state(run.id, Cancelled(), force=True)


@pytest.fixture
def incident(owner: FlowRun) -> Incident:
    """The incident `owner` owns."""
    return own_kube_proxy_incident(uuid.uuid4().hex[:12], owner)


def joined(service: str) -> JoinedAlert:
    """A ServiceDown alert of `service` that joined at the door."""
    fingerprint = uuid.uuid4().hex[:16]
    return JoinedAlert(
        alertname="ServiceDown",
        fingerprint=fingerprint,
        starts_at=STARTS_AT,
        runbook="service-down",
        deployment="service-checklist/service-checklist",
        parameters={"namespace": "shop", "service": service},
        tags=["alert:ServiceDown"],
        labels={"alert.fingerprint": fingerprint},
        idempotency_key=f"{fingerprint}-20251125t093005z",
        joined_at=datetime.now(UTC),
    )


async def resolve(client: PrefectClient, alert: JoinedAlert) -> None:
    """Record `alert` resolved, as the receiver does."""
    resolution = AlertResolution(
        alertname=alert.alertname,
        fingerprint=alert.fingerprint,
        starts_at=alert.starts_at,
        ends_at=alert.starts_at + timedelta(minutes=5),
    )
    await record_resolution(client, resolution)


async def test_the_request_answers_while_any_joined_alert_fires_also_one_joined_between_sweeps(
    prefect_client: PrefectClient, owner: FlowRun, incident: Incident
) -> None:
    refresher = CoverageRefresher(incident.cluster, LogNotifier())
    first = joined("cart")
    ledger.join_incident(incident, first)

    await refresher.read_incidents(prefect_client)
    assert await refresher.others_firing(owner)

    await resolve(prefect_client, first)
    assert not await refresher.others_firing(owner)

    ledger.join_incident(incident, joined("checkout"))  # read since the last sweep, not again
    await refresher.read_incidents(prefect_client)
    assert await refresher.others_firing(owner)


async def test_a_run_that_owns_no_open_incident_answers_for_no_other_alert(
    prefect_client: PrefectClient, owner: FlowRun
) -> None:
    refresher = CoverageRefresher(uuid.uuid4().hex[:12], LogNotifier())

    await refresher.read_incidents(prefect_client)

    assert not await refresher.others_firing(owner)
