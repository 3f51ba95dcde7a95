"""Minute 1's scope: the run counts the other alerts of its name firing; the receiver's record
alone (no Alertmanager API) cannot confirm they still fire, so it does not steer the scope."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from tests.flows.checklist_engine import AlertEpisodeRef
from tests.flows.conftest import Launch

SERVICE_DOWN = "service-down"


def _service_down() -> AlertEpisodeRef:
    # Started now, not when the module was collected: only episodes of the last 15 minutes count.
    return AlertEpisodeRef(
        "ServiceDown", uuid.uuid4().hex[:16], datetime.now(UTC).replace(microsecond=0)
    )


async def test_other_alerts_only_the_receivers_record_counts_are_named_but_do_not_steer_scope(
    launch: Launch,
) -> None:
    engine = await launch("kube-proxy-down")
    others = [_service_down(), _service_down()]
    own = _service_down()
    try:
        for alert, (namespace, service) in zip(
            others, [("shop", "checkout"), ("kube-system", "kube-dns")], strict=True
        ):
            await engine.start_alert_run(
                alert,
                runbook=SERVICE_DOWN,
                scope="service",
                namespace=namespace,
                service=service,
                dry_run=True,
            )
        run_id = await engine.start_alert_run(
            own,
            runbook=SERVICE_DOWN,
            scope="service",
            namespace="shop",
            service="web",
            dry_run=True,
        )

        done = await engine.wait_for(run_id)
    finally:
        for alert in [*others, own]:
            await engine.resolve(alert)  # later tests must not count these

    assert done.name == "DryRun", done
    report = await engine.report(run_id)
    assert (
        "- **info** `many_services_affected` cluster: 2 other alert(s) of this name may fire "
        "too (not confirmed): if they do, suspect kube-proxy, the CNI or a node rather than "
        "one Service"
    ) in report
    assert (
        "  - 2 other alert(s) of the same name started runs recently with no resolution "
        "recorded by the receiver"
    ) in report
    assert "whether they still fire is unknown" in report
    assert "**warning** `many_services_affected`" not in report


async def test_an_alert_never_recorded_resolved_does_not_make_a_healthy_service_a_cluster_fault(
    launch: Launch,
) -> None:
    engine = await launch("healthy")
    stale, own = _service_down(), _service_down()
    try:
        # Its resolved notification never reached the receiver: the record still counts it.
        await engine.start_alert_run(
            stale,
            runbook=SERVICE_DOWN,
            scope="service",
            namespace="shop",
            service="checkout",
            dry_run=True,
        )
        run_id = await engine.start_alert_run(
            own, runbook=SERVICE_DOWN, scope="service", namespace="shop", service="web"
        )
        done = await engine.wait_for(run_id)
    finally:
        for alert in (stale, own):
            await engine.resolve(alert)

    assert done.name == "NothingToDo", done
    report = await engine.report(run_id)
    assert "Many Services fail at once" not in report
    assert "`many_services_affected` cluster: 1 other alert(s) of this name may fire too" in report


async def test_an_alert_alone_points_at_its_own_service(launch: Launch) -> None:
    engine = await launch("healthy")
    own = _service_down()
    try:
        run_id = await engine.start_alert_run(
            own, runbook=SERVICE_DOWN, scope="service", namespace="shop", service="web"
        )
        done = await engine.wait_for(run_id)
    finally:
        await engine.resolve(own)

    assert done.name == "NothingToDo", done
    assert "`single_service_affected`" in await engine.report(run_id)


async def test_the_report_names_the_labels_of_the_alert_that_started_the_run(
    launch: Launch,
) -> None:
    engine = await launch("healthy")
    own = _service_down()
    labels = {"alertname": "ServiceDown", "namespace": "shop", "service": "web"}
    try:
        run_id = await engine.start_alert_run(
            own,
            runbook=SERVICE_DOWN,
            labels=labels,
            scope="service",
            namespace="shop",
            service="web",
        )
        await engine.wait_for(run_id)
    finally:
        await engine.resolve(own)

    report = await engine.report(run_id)
    assert "- Labels: `alertname=ServiceDown`, `namespace=shop`, `service=web`" in report
