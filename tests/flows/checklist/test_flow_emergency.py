"""The emergency NodePort Service: opened when kube-proxy stays broken, removed once recovered."""

from __future__ import annotations

from typing import Any

from simcluster import resources
from simcluster.cluster import SimCluster
from simcluster.errors import NotFoundError
from tests.flows.checklist.follow_ups import follow_up_of
from tests.flows.conftest import Launch

SERVICE_DOWN = "service-down"
EMERGENCY = "web-emergency"
WEB: dict[str, Any] = {
    "scope": "service",
    "namespace": "shop",
    "service": "web",
    # Five nodes, kube-proxy down on two: a budget of one restart per run defers the second.
    "kube_proxy_restart_budget_fraction": 0.2,
    "verify_timeout_seconds": 3,
}


def _emergency(cluster: SimCluster) -> dict[str, Any] | None:
    try:
        service: dict[str, Any] = cluster.store.get(resources.SERVICES, "shop", EMERGENCY)
    except NotFoundError:
        return None
    return service


async def test_kube_proxy_broken_beyond_the_budget_opens_an_emergency_nodeport_until_recovery(
    launch: Launch,
) -> None:
    engine = await launch("kube-proxy-down")
    cluster = engine.sim.cluster
    web = cluster.store.get(resources.SERVICES, "shop", "web")
    restarted, deferred = cluster.faults.active()["kube-proxy-down"]["nodes"]

    first = await engine.start_run(runbook=SERVICE_DOWN, **WEB)
    await engine.wait_for(first, paused=True)
    [request] = engine.notifier.requested
    assert [item.key for item in request.items] == [
        f"restart_kube_proxy_pod:{restarted}",
        "create_emergency_nodeport:shop/web",
    ]
    assert _emergency(cluster) is None
    await engine.answer(first, approve=True)
    done = await engine.wait_for(first)

    # The restart cured one node and was verified there; the other, over budget, still fails:
    # the run says so, and the fallback access stays open for it.
    assert done.name == "PartiallyMitigated", done
    assert (
        f"deferred: kube-proxy still needs a restart on 1 node(s) over this run's budget: "
        f"{deferred}"
    ) in (done.message or "")
    emergency = _emergency(cluster)
    assert emergency is not None
    assert emergency["metadata"]["labels"]["service-runbooks.io/emergency"] == "true"
    assert emergency["spec"]["type"] == "NodePort"
    assert emergency["spec"]["selector"] == web["spec"]["selector"]
    [port] = emergency["spec"]["ports"]
    [original] = web["spec"]["ports"]
    assert (port["name"], port["port"], port["targetPort"], port["protocol"]) == (
        original["name"],
        original["port"],
        original["targetPort"],
        original["protocol"],
    )
    assert 30000 <= port["nodePort"] <= 32767
    report = await engine.report(first)
    assert f"created Service shop/{EMERGENCY}, node ports 80->{port['nodePort']}" in report
    assert f"Deferred nodes: {deferred}" in report

    # Its follow-up restarts the deferred node; the Service recovers and the fallback goes.
    second = (await follow_up_of(engine, first)).id
    await engine.wait_for(second, paused=True)
    assert [item.key for item in engine.notifier.requested[-1].items] == [
        f"restart_kube_proxy_pod:{deferred}"
    ]
    await engine.answer(second, approve=True)
    done = await engine.wait_for(second)

    assert done.name == "Recovered", done
    assert _emergency(cluster) is None
    assert cluster.requests.total(verb="create", resource="services") == 1
    assert cluster.requests.total(verb="delete", resource="services") == 1
    report = await engine.report(second)
    assert f"Emergency Service shop/{EMERGENCY} exists" in report
    assert f"deleted Service shop/{EMERGENCY}: the Service has recovered" in report
