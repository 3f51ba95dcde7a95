"""Minute 1's scope: the run counts the other alerts of its name firing (receiver's record)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from tests.flows.checklist_engine import AlertEpisodeRef
from tests.flows.conftest import Launch

SERVICE_DOWN = "service-down"
STARTS_AT = datetime.now(UTC).replace(microsecond=0)


def _service_down() -> AlertEpisodeRef:
    return AlertEpisodeRef("ServiceDown", uuid.uuid4().hex[:16], STARTS_AT)


async def test_two_other_service_down_alerts_make_the_run_suspect_a_shared_cause(
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
        "- **warning** `many_services_affected` cluster: 3 alerts of this name fire at once: "
        "suspect kube-proxy, the CNI or a node rather than one Service"
    ) in report
    assert "  - 2 other alert(s) of the same name firing" in report
    assert "Many Services fail at once: if kube-proxy looks healthy" in report


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
