"""kube-proxy down: restarted node by node after approval, verified; a dry run changes nothing.

A kube-proxy wedged in its pod is cured by the restart; a node-level fault is not, and the run
stops its rolling restart at the first node that does not come back.
"""

from __future__ import annotations

from tests.flows.checklist_engine import crash_looping_nodes
from tests.flows.conftest import Launch

KUBE_PROXY_DOWN = "kube-proxy-down"


async def test_kube_proxy_down_on_two_of_five_nodes_is_restarted_one_node_at_a_time(
    launch: Launch,
) -> None:
    engine = await launch("kube-proxy-down")
    cluster = engine.sim.cluster
    broken = crash_looping_nodes(cluster)
    assert len(broken) == 2
    run_id = await engine.start_run(
        runbook=KUBE_PROXY_DOWN, scope="cluster", kube_proxy_restart_budget_fraction=0.4
    )

    await engine.wait_for(run_id, paused=True)
    [request] = engine.notifier.requested
    assert [item.key for item in request.items] == [
        f"restart_kube_proxy_pod:{node}" for node in sorted(broken)
    ]
    assert cluster.requests.total(verb="delete", resource="pods") == 0
    await engine.answer(run_id, approve=True)
    done = await engine.wait_for(run_id)

    assert done.name == "Recovered", done
    assert cluster.requests.total(verb="delete", resource="pods") == 2
    assert crash_looping_nodes(cluster) == set()
    report = await engine.report(run_id)
    # Each wave waited for its replacement before the next one started.
    assert report.count("replacement Ready after") == 2
    assert "kube-proxy Ready without sync errors on the 2 restarted node(s)" in report


async def test_a_dry_run_plans_the_restarts_and_makes_no_mutating_call(launch: Launch) -> None:
    engine = await launch("kube-proxy-down")
    engine.sim.cluster.requests.reset()
    run_id = await engine.start_run(
        runbook=KUBE_PROXY_DOWN, scope="cluster", dry_run=True, auto_approve=True
    )

    done = await engine.wait_for(run_id)

    assert done.name == "DryRun", done
    assert engine.mutations() == 0
    assert engine.sim.cluster.requests.total() > 0
    report = await engine.report(run_id)
    assert "Restart kube-proxy on node" in report
    assert "| dry_run |" in report


async def test_a_node_level_fault_fails_the_first_restart_and_stops_the_rolling_restart(
    launch: Launch,
) -> None:
    engine = await launch("kube-proxy-down-persistent")
    cluster = engine.sim.cluster
    first, second = sorted(crash_looping_nodes(cluster))
    run_id = await engine.start_run(
        runbook=KUBE_PROXY_DOWN,
        scope="cluster",
        kube_proxy_restart_budget_fraction=0.4,
        verify_timeout_seconds=2,
    )

    await engine.wait_for(run_id, paused=True)
    await engine.answer(run_id, approve=True)
    done = await engine.wait_for(run_id)

    assert done.name == "Failed", done
    # One node restarted, its replacement crash-looped too; the next wave never started.
    assert cluster.requests.total(verb="delete", resource="pods") == 1
    assert crash_looping_nodes(cluster) == {first, second}
    why = f"kube-proxy on {first} not Ready again within 2s after the restart"
    assert why in (done.message or "")
    report = await engine.report(run_id)
    assert f"**Outcome: failed**: {why}" in report
    [second_step] = [
        line
        for line in report.splitlines()
        if line.startswith(f"| 2 | mitigate | Restart kube-proxy on node {second} ")
    ]
    assert "| skipped | not carried out:" in second_step
