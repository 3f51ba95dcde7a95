"""The approval gate in the checklist: rejected, timed out, alert resolved, engine restarted."""

from __future__ import annotations

from datetime import UTC, datetime

from engine.dispatch.alert_record import AlertResolution, record_resolution
from simcluster import resources
from tests.flows.conftest import Launch

ALERT = {
    "alert_fingerprint": "5f0c3a9d1e7b2c44",
    "alert_starts_at": "2025-01-10T09:00:00Z",
    "alertname": "ServiceDown",
}


async def test_a_rejected_approval_ends_the_run_rejected_with_nothing_done(
    launch: Launch,
) -> None:
    engine = await launch("selector-mismatch")
    run_id = await engine.start_run(
        runbook="service-down", scope="service", namespace="shop", service="web"
    )
    await engine.wait_for(run_id, paused=True)
    engine.sim.cluster.requests.reset()

    await engine.answer(run_id, approve=False, by="bob", reason="fixing it in the deploy")
    done = await engine.wait_for(run_id)

    assert done.name == "Rejected", done
    assert "rejected by bob" in (done.message or "")
    assert engine.mutations() == 0
    [(_, answer)] = engine.notifier.decided
    assert answer.decision.value == "rejected"
    assert "**Outcome: rejected**" in await engine.report(run_id)


async def test_an_unanswered_approval_times_out_as_a_rejection(launch: Launch) -> None:
    engine = await launch("selector-mismatch")
    run_id = await engine.start_run(
        runbook="service-down",
        scope="service",
        namespace="shop",
        service="web",
        approval_timeout_seconds=1,
    )

    done = await engine.wait_for(run_id)

    assert done.name == "ApprovalTimedOut", done
    assert engine.mutations() == 0
    report = await engine.report(run_id)
    assert "**Outcome: approval_timed_out**" in report
    # The engine answered for nobody: the report says through which channel, as the others do.
    assert "| timed_out | runbook-engine | engine |" in report


async def test_an_alert_resolving_while_waiting_ends_the_run_without_a_change(
    launch: Launch,
) -> None:
    engine = await launch("selector-mismatch")
    run_id = await engine.start_run(
        runbook="service-down", scope="service", namespace="shop", service="web", **ALERT
    )
    await engine.wait_for(run_id, paused=True)

    # What the receiver does on Alertmanager's resolved notification.
    await record_resolution(
        engine.client,
        AlertResolution(
            alertname="ServiceDown",
            fingerprint=ALERT["alert_fingerprint"],
            starts_at=datetime(2025, 1, 10, 9, 0, tzinfo=UTC),
            ends_at=datetime.now(UTC),
        ),
    )
    done = await engine.wait_for(run_id)

    assert done.name == "AlertResolved", done
    assert engine.mutations() == 0
    spec = engine.sim.cluster.store.get(resources.SERVICES, "shop", "web")["spec"]
    assert spec["selector"] == {"app": "web-v2"}
    report = await engine.report(run_id)
    assert "the alert resolved while waiting for approval" in report


async def test_an_approval_outstanding_across_an_engine_restart_acts_exactly_once(
    launch: Launch,
) -> None:
    engine = await launch("selector-mismatch")
    run_id = await engine.start_run(
        runbook="service-down", scope="service", namespace="shop", service="web"
    )
    await engine.wait_for(run_id, paused=True)

    await engine.stop()
    await engine.start()
    await engine.answer(run_id, approve=True)
    done = await engine.wait_for(run_id)

    assert done.name == "Recovered", done
    assert engine.sim.cluster.requests.total(verb="patch", resource="services") == 1
    assert len(engine.notifier.requested) == 1
    assert len(engine.notifier.decided) == 1
