"""Verification checks what the run did: the nodes it restarted (not the ones it deferred), a
fixed targetPort by the port the pods declare and a connect through the Service, and it says
which recovery signals it could not check."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime

from simcluster import resources
from tests.flows.checklist.follow_ups import follow_up_of, follow_up_runs
from tests.flows.checklist_engine import AlertEpisodeRef
from tests.flows.conftest import Launch

KUBE_PROXY_DOWN = "kube-proxy-down"
SERVICE_DOWN = "service-down"


async def test_a_run_that_restarted_every_node_in_its_budget_ends_partially_mitigated_at_once(
    launch: Launch,
) -> None:
    engine = await launch("kube-proxy-down")
    restarted, deferred = engine.sim.cluster.faults.active()["kube-proxy-down"]["nodes"]
    run_id = await engine.start_run(
        runbook=KUBE_PROXY_DOWN,
        scope="cluster",
        kube_proxy_restart_budget_fraction=0.2,
        kube_proxy_restart_hourly_budget_fraction=0.2,
        verify_timeout_seconds=60,
    )
    await engine.wait_for(run_id, paused=True)
    answered = time.monotonic()
    await engine.answer(run_id, approve=True)

    done = await engine.wait_for(run_id, within=120)

    assert done.name == "PartiallyMitigated", done
    assert done.is_completed()
    assert time.monotonic() - answered < 45  # the deferred node was not waited for
    report = await engine.report(run_id)
    assert f"kube-proxy Ready without sync errors on the 1 restarted node(s): {restarted}" in report
    assert (
        f"deferred: kube-proxy still needs a restart on 1 node(s) over this run's budget: "
        f"{deferred}"
    ) in report
    assert f"Deferred nodes: {deferred}" in report


async def test_a_target_port_fix_is_verified_by_a_declared_port_and_a_connect_through_the_service(
    launch: Launch,
) -> None:
    engine = await launch("wrong-target-port")
    cluster = engine.sim.cluster
    cluster_ip = cluster.store.get(resources.SERVICES, "shop", "checkout")["spec"]["clusterIP"]
    alert = AlertEpisodeRef("ServiceDown", uuid.uuid4().hex[:16], datetime.now(UTC))
    try:
        run_id = await engine.start_alert_run(
            alert, runbook=SERVICE_DOWN, scope="service", namespace="shop", service="checkout"
        )
        await engine.wait_for(run_id, paused=True)
        await engine.answer(run_id, approve=True)
        done = await engine.wait_for(run_id)
    finally:
        await engine.resolve(alert)  # later tests must not count it

    assert done.name == "Recovered", done
    report = await engine.report(run_id)
    assert (
        "| Verify targetPort 8080 of port 80 of Service shop/checkout names a port its pods "
        "declare | checked: passed | targetPort 8080 declared by all 2 selected pod(s) |"
    ) in report
    assert f"| checked: passed | TCP connect to {cluster_ip}:80 from kube-proxy pod " in report
    assert "succeeded (nc -z) |" in report
    # Alertmanager is not configured here: the alert check is named unavailable, not skipped
    # in silence, in the report and in the outcome.
    assert (
        f"| Verify alert ServiceDown ({alert.fingerprint}) has stopped firing | unavailable | "
        "no Alertmanager URL configured (RUNBOOKS_ALERTMANAGER_URL) |"
    ) in report
    assert "unavailable: no Alertmanager URL configured (RUNBOOKS_ALERTMANAGER_URL)" in (
        done.message or ""
    )


async def test_deferred_nodes_get_a_follow_up_run_under_the_same_policy_until_all_are_restarted(
    launch: Launch,
) -> None:
    engine = await launch("kube-proxy-down")
    cluster = engine.sim.cluster
    _, second_node = cluster.faults.active()["kube-proxy-down"]["nodes"]
    first = await engine.start_run(
        runbook=KUBE_PROXY_DOWN,
        scope="cluster",
        kube_proxy_restart_budget_fraction=0.2,
        kube_proxy_restart_hourly_budget_fraction=0.6,
    )
    await engine.wait_for(first, paused=True)
    await engine.answer(first, approve=True)
    done = await engine.wait_for(first, within=120)

    assert done.name == "PartiallyMitigated", done
    # Nobody fires the alert again: the run started the next wave itself.
    follow_up = await follow_up_of(engine, first)
    assert follow_up.parameters["follow_up_of"] == str(first)
    assert follow_up.parameters["restarted_this_hour"] == 1
    assert "runbook:kube-proxy-down" in follow_up.tags
    assert "follow-up" in follow_up.tags
    assert f"follow-up run {follow_up.name} ({follow_up.id}) started" in (done.message or "")
    # The same approval policy asks again for the next wave.
    await engine.wait_for(follow_up.id, paused=True)
    [_, request] = engine.notifier.requested
    assert [item.key for item in request.items] == [f"restart_kube_proxy_pod:{second_node}"]
    await engine.answer(follow_up.id, approve=True)
    second = await engine.wait_for(follow_up.id, within=120)

    assert second.name == "Recovered", second
    assert cluster.requests.total(verb="delete", resource="pods") == 2
    assert await follow_up_runs(engine, follow_up.id) == []
    report = await engine.report(follow_up.id)
    assert f"- Follow-up of run {first} (kube-proxy restarts already made this hour: 1)" in report


async def test_a_follow_up_restarts_its_deferred_nodes_though_its_parents_alert_resolved(
    launch: Launch,
) -> None:
    engine = await launch("kube-proxy-down")
    cluster = engine.sim.cluster
    episode = AlertEpisodeRef(
        alertname="KubeProxyDown", fingerprint=uuid.uuid4().hex[:16], starts_at=datetime.now(UTC)
    )
    first = await engine.start_alert_run(
        episode,
        runbook=KUBE_PROXY_DOWN,
        scope="cluster",
        kube_proxy_restart_budget_fraction=0.2,
        kube_proxy_restart_hourly_budget_fraction=0.6,
    )
    await engine.wait_for(first, paused=True)
    await engine.answer(first, approve=True)
    assert (await engine.wait_for(first, within=120)).name == "PartiallyMitigated"
    follow_up = await follow_up_of(engine, first)
    await engine.wait_for(follow_up.id, paused=True)

    # The alert was about the whole cluster; it stops firing before the next wave is approved
    # (its rule's threshold), while the deferred node's kube-proxy still crash-loops.
    await engine.resolve(episode)
    await engine.answer(follow_up.id, approve=True)
    second = await engine.wait_for(follow_up.id, within=120)

    assert second.name == "Recovered", second
    assert cluster.requests.total(verb="delete", resource="pods") == 2


async def test_a_run_whose_hour_budget_is_spent_starts_no_follow_up_and_says_so(
    launch: Launch,
) -> None:
    engine = await launch("kube-proxy-down")
    run_id = await engine.start_run(
        runbook=KUBE_PROXY_DOWN,
        scope="cluster",
        kube_proxy_restart_budget_fraction=0.2,
        kube_proxy_restart_hourly_budget_fraction=0.2,
    )
    await engine.wait_for(run_id, paused=True)
    await engine.answer(run_id, approve=True)
    done = await engine.wait_for(run_id, within=120)

    assert done.name == "PartiallyMitigated", done
    assert (
        "no follow-up run: this hour's budget of 1 kube-proxy restart(s) is spent; run the "
        "checklist again later"
    ) in (done.message or "")
    assert await follow_up_runs(engine, run_id) == []
