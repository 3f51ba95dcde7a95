"""Which kube-proxy pods run the current template is told by their revision hash, as the
DaemonSet controller tells it, not by the DaemonSet's generation."""

from __future__ import annotations

from simcluster import resources
from tests.flows.conftest import Launch
from tests.flows.operator import operator

KUBE_PROXY_DOWN = "kube-proxy-down"


async def test_a_daemon_set_change_that_keeps_the_template_leaves_every_pod_current(
    launch: Launch,
) -> None:
    engine = await launch("kube-proxy-down")
    cluster = engine.sim.cluster
    before = cluster.store.get(resources.DAEMONSETS, "kube-system", "kube-proxy")
    with operator(engine) as kubectl:
        # A new generation with the same template: nothing rolls, no pod is out of date.
        kubectl.patch(
            "daemonset",
            "kube-system",
            "kube-proxy",
            {"spec": {"updateStrategy": {"rollingUpdate": {"maxUnavailable": 2}}}},
        )
    cluster.settle()
    after = cluster.store.get(resources.DAEMONSETS, "kube-system", "kube-proxy")
    assert after["metadata"]["generation"] == before["metadata"]["generation"] + 1

    run_id = await engine.start_run(runbook=KUBE_PROXY_DOWN, scope="cluster", dry_run=True)
    done = await engine.wait_for(run_id)

    assert done.name == "DryRun", done
    report = await engine.report(run_id)
    assert "kube_proxy_crash_looping" in report
    assert "previous revision" not in report
    assert "kube_proxy_rollout" not in report
