"""The rollback and the kube-proxy incident: one run changes kube-proxy at a time."""

from __future__ import annotations

from datetime import UTC, datetime

from prefect import flow
from prefect.client.orchestration import PrefectClient

from engine.dispatch.incidents import record_joins
from flows.incident.records import Incident, JoinedAlert
from simcluster.faults import BROKEN_PROXY_IMAGE
from tests.flows.conftest import Launch
from tests.flows.rollback.test_flow import image_of, wait_for_revisions
from tests.incident_owner import own_kube_proxy_incident

STARTS_AT = datetime(2026, 12, 3, 3, 0, tzinfo=UTC)


@flow(name="incident-stand-in")
def stand_in() -> None:
    """Stands for the run that holds kube-proxy's incident (never run)."""


async def test_a_rollback_while_another_run_changes_kube_proxy_changes_nothing_and_names_it(
    launch_rollback: Launch, prefect_client: PrefectClient
) -> None:
    engine = await launch_rollback("bad-kube-proxy-rollout")
    await wait_for_revisions(engine, 2)
    # A live run no engine executes (no deployment) holds kube-proxy, as a checklist would.
    other = await prefect_client.create_flow_run(stand_in, name="restarting-kube-proxy")
    own_kube_proxy_incident(
        engine.cluster, other, cause="kube-proxy needs a restart on 2 node(s): node-2, node-3"
    )

    run_id = await engine.start_run()
    done = await engine.wait_for(run_id)

    assert done.name == "KubeProxyBusy", done
    assert f"run {other.name} ({other.id}) is changing kube-proxy" in (done.message or "")
    assert engine.mutations() == 0
    assert engine.notifier.requested == []
    assert image_of(engine) == BROKEN_PROXY_IMAGE


async def test_alerts_that_joined_during_a_rollback_get_their_own_runs_once_it_is_done(
    launch_rollback: Launch,
) -> None:
    engine = await launch_rollback("bad-kube-proxy-rollout")
    await wait_for_revisions(engine, 2)
    run_id = await engine.start_run()
    await engine.wait_for(run_id, paused=True)
    [marker] = [
        m
        for m in [await _marker(engine.client, engine.cluster)]
        if m is not None and m.owner_run_id == str(run_id)
    ]
    alert = JoinedAlert(
        alertname="ServiceDown",
        fingerprint="5e1f0a2b3c4d5e6f",
        starts_at=STARTS_AT,
        runbook="service-down",
        deployment="kube-proxy-rollback/kube-proxy-rollback",
        parameters={},
        tags=["runbook:service-down"],
        labels={},
        idempotency_key=f"service-down:5e1f0a2b3c4d5e6f:{STARTS_AT.isoformat()}",
        joined_at=datetime.now(UTC),
    )
    await record_joins(engine.client, {"kube-proxy": [alert]}, {"kube-proxy": marker})

    await engine.answer(run_id, approve=True)
    done = await engine.wait_for(run_id, within=120)

    assert done.name == "RolledBack", done
    report = await engine.report(run_id)
    assert "## Alerts that arrived during the rollback" in report
    assert "- ServiceDown on the cluster: run " in report
    # Released: the incident is no longer the rollback's (the run it started may own a new one).
    after = await _marker(engine.client, engine.cluster)
    assert after is None or after.owner_run_id != str(run_id)


async def _marker(client: PrefectClient, cluster: str) -> Incident | None:
    found = await client.read_variable_by_name(f"incident-{cluster}-kube-proxy")
    return Incident.model_validate(found.value) if found is not None else None
