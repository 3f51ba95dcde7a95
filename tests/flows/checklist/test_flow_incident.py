"""A big incident: one cause, one plan, one approval, each broken kube-proxy pod deleted once.

kube-proxy crash-loops on two nodes and every Service's alert starts a checklist run at once.
One run owns the kube-proxy incident and asks once; the others join it and end; once the
restarts are done the owner verifies every joined Service and lists each alert in its report.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID

from prefect.client.orchestration import PrefectClient
from prefect.client.schemas.filters import (
    FlowRunFilter,
    FlowRunFilterIdempotencyKey,
    FlowRunFilterTags,
)
from prefect.client.schemas.objects import State, StateType
from prefect.input.run_input import keyset_from_paused_state

from engine.dispatch.dispatcher import PrefectDispatcher
from engine.handoff import RunRequest
from flows.approval import ApprovalRequest
from flows.run_identity import FINGERPRINT_TAG, FOLLOW_UP_OF_TAG
from simcluster import manifests
from simcluster.cluster import SimCluster
from tests.flows.checklist_engine import (
    DEPLOYMENT,
    AlertEpisodeRef,
    ChecklistEngine,
    crash_looping_nodes,
    engine_for,
)
from tests.flows.conftest import Launch

SERVICE_DOWN = "service-down"
KUBE_PROXY_DOWN = "kube-proxy-down"
STARTS_AT = datetime(2026, 12, 3, 3, 0, tzinfo=UTC)
HTTP = [{"name": "http", "containerPort": 8080, "protocol": "TCP"}]


def add_services(cluster: SimCluster, count: int, *, namespace: str = "shop") -> list[str]:
    """``count`` more Services in ``namespace``, each with one ready pod; their names."""
    names = [f"svc-{number:02d}" for number in range(count)]
    for name in names:
        cluster.create(
            manifests.deployment(
                namespace, name, image="registry.example.com/app:1", replicas=1, ports=HTTP
            )
        )
        cluster.create(
            manifests.service(
                namespace,
                name,
                ports=[{"name": "http", "port": 80, "protocol": "TCP", "targetPort": "http"}],
                selector={"app": name},
            )
        )
    cluster.settle(timeout=5.0)
    return names


def alert(name: str, target: str) -> AlertEpisodeRef:
    """A firing alert episode about ``target``, its fingerprint unique to it."""
    return AlertEpisodeRef(
        alertname=name, fingerprint=f"{abs(hash(target)):016x}"[:16], starts_at=STARTS_AT
    )


async def start_service_down(engine: ChecklistEngine, namespace: str, service: str) -> UUID:
    """Start the run the dispatcher starts for a ServiceDown alert on the Service."""
    return await engine.start_alert_run(
        alert("ServiceDown", f"{namespace}/{service}"),
        runbook=SERVICE_DOWN,
        labels={"namespace": namespace, "service": service},
        scope="service",
        namespace=namespace,
        service=service,
        kube_proxy_restart_budget_fraction=0.5,
    )


async def start_kube_proxy_down(engine: ChecklistEngine) -> UUID:
    """Start the run the dispatcher starts for KubeProxyDown (cluster scope)."""
    return await engine.start_alert_run(
        alert("KubeProxyDown", "cluster"),
        runbook=KUBE_PROXY_DOWN,
        scope="cluster",
        kube_proxy_restart_budget_fraction=0.5,
    )


async def settled(engine: ChecklistEngine, runs: list[UUID]) -> dict[UUID, State]:
    """Each run's state once every one is final or Paused."""
    states = await asyncio.gather(*(engine.wait_for(run, paused=True, within=120) for run in runs))
    return dict(zip(runs, states, strict=True))


def kube_proxy_deletions(cluster: SimCluster) -> int:
    """Pods deleted so far (only kube-proxy pods are deleted in these scenarios)."""
    return cluster.requests.total(verb="delete", resource="pods")


async def test_a_storm_of_alerts_on_one_kube_proxy_fault_asks_once_and_restarts_each_pod_once(
    launch: Launch,
) -> None:
    engine = await launch("kube-proxy-down")
    cluster = engine.sim.cluster
    services = add_services(cluster, 8)

    runs = [await start_kube_proxy_down(engine)]
    runs += await asyncio.gather(*(start_service_down(engine, "shop", s) for s in services))
    states = await settled(engine, runs)

    paused = [run for run, state in states.items() if state.type is StateType.PAUSED]
    joined = [run for run, state in states.items() if state.name == "JoinedIncident"]
    assert len(paused) == 1, states
    assert len(joined) == len(runs) - 1, states
    [request] = engine.notifier.requested
    assert str(request.flow_run_id) == str(paused[0])
    assert kube_proxy_deletions(cluster) == 0

    await engine.answer(paused[0], approve=True)
    done = await engine.wait_for(paused[0], within=120)

    assert done.name == "Recovered", done
    assert kube_proxy_deletions(cluster) == 2
    assert len(engine.notifier.requested) == 1
    report = await engine.report(paused[0])
    assert "This run owned the kube-proxy incident" in report
    # Every other alert is listed once, its target verified working after the restarts.
    assert report.count("| working: ") == len(runs) - 1, report
    for run in joined:
        joined_report = await engine.report(run)
        assert f"({paused[0]})" in joined_report, joined_report


async def test_a_service_local_fault_inside_the_storm_keeps_its_own_request(
    launch: Launch,
) -> None:
    engine = await launch("kube-proxy-down")
    cluster = engine.sim.cluster
    cluster.faults.selector_mismatch()
    cluster.settle(timeout=2.0)
    owner = await start_kube_proxy_down(engine)
    await engine.wait_for(owner, paused=True, within=120)

    broken = await start_service_down(engine, "shop", "web")
    healthy = await start_service_down(engine, "shop", "checkout")
    states = await settled(engine, [broken, healthy])

    assert states[healthy].name == "JoinedIncident", states
    assert states[broken].type is StateType.PAUSED, states
    # The owner's waiting request now says it answers for the Service that joined.
    updated = await _until(lambda: [r for r in engine.notifier.updated if r.coverage])
    assert updated[-1].coverage is not None
    assert updated[-1].coverage.targets == ("shop/checkout",)
    assert "shop/checkout" in await _form_description(engine, owner)
    requests = {str(r.flow_run_id): r for r in engine.notifier.requested}
    assert set(requests) == {str(owner), str(broken)}
    assert [item.key.split(":")[0] for item in requests[str(broken)].items] == ["patch_service"]
    assert all(item.key.startswith("restart_kube_proxy_pod") for item in requests[str(owner)].items)

    await engine.answer(owner, approve=True)
    await engine.answer(broken, approve=True)
    assert (await engine.wait_for(owner, within=120)).name == "Recovered"
    assert (await engine.wait_for(broken, within=120)).name == "Recovered"
    assert kube_proxy_deletions(cluster) == 2


async def test_an_alert_joined_at_the_door_whose_service_still_fails_gets_its_own_run(
    launch: Launch, prefect_client: PrefectClient
) -> None:
    engine = await launch("kube-proxy-down")
    cluster = engine.sim.cluster
    cluster.faults.selector_mismatch()
    cluster.settle(timeout=2.0)
    owner = await start_kube_proxy_down(engine)
    await engine.wait_for(owner, paused=True, within=120)
    dispatcher = PrefectDispatcher(
        {DEPLOYMENT: engine.deployment_id}, cluster=engine.cluster, launcher=engine.executor
    )
    try:
        handles = [await dispatcher.submit(_service_down_request(s)) for s in ("web", "checkout")]
    finally:
        await dispatcher.aclose()
    assert [h.flow_run_id for h in handles] == [owner, owner]
    assert all(h.joined and not h.created for h in handles)

    await engine.answer(owner, approve=True)
    assert (await engine.wait_for(owner, within=120)).name == "Recovered"

    report = await engine.report(owner)
    assert "| ServiceDown | shop/checkout |" in report
    assert "working: " in report
    assert "still failing: 0 ready" in report
    web = _service_down_request("web")
    [run] = await prefect_client.read_flow_runs(
        flow_run_filter=FlowRunFilter(
            idempotency_key=FlowRunFilterIdempotencyKey(any_=[web.idempotency_key])
        )
    )
    state = await engine.wait_for(run.id, paused=True, within=120)
    assert state.type is StateType.PAUSED
    [request] = [r for r in engine.notifier.requested if str(r.flow_run_id) == str(run.id)]
    assert [item.key.split(":")[0] for item in request.items] == ["patch_service"]
    assert kube_proxy_deletions(cluster) == 2


def _service_down_request(service: str) -> RunRequest:
    """The run request the receiver builds for ServiceDown on shop/`service`."""
    episode = alert("ServiceDown", f"door/shop/{service}")
    return RunRequest(
        runbook=SERVICE_DOWN,
        deployment=DEPLOYMENT,
        parameters={
            "scope": "service",
            "namespace": "shop",
            "service": service,
            "alertname": episode.alertname,
            "alert_fingerprint": episode.fingerprint,
            "alert_starts_at": episode.starts_at.isoformat(),
        },
        idempotency_key=f"{SERVICE_DOWN}:{episode.fingerprint}:{episode.starts_at.isoformat()}",
        alert_fingerprint=episode.fingerprint,
        alert_starts_at=episode.starts_at,
        alertname=episode.alertname,
        concurrency_key=f"service/shop/{service}",
        labels={"namespace": "shop", "service": service},
        joins_incident="kube-proxy",
    )


async def _until(
    found: Callable[[], list[ApprovalRequest]], within: float = 30
) -> list[ApprovalRequest]:
    """What `found` returns once it is not empty."""
    deadline = asyncio.get_running_loop().time() + within
    while not (result := found()):
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("nothing came within the time")
        await asyncio.sleep(0.1)
    return result


async def _form_description(engine: ChecklistEngine, run_id: UUID) -> str:
    """What the Prefect UI shows above the run's resume form."""
    run = await engine.client.read_flow_run(run_id)
    assert run.state is not None
    key = keyset_from_paused_state(run.state)["description"]
    return str(await engine.client.read_flow_run_input(run_id, key))


async def test_two_engines_and_a_restart_in_the_middle_still_ask_once_and_restart_once(
    launch: Launch, checklist_deployment: UUID, prefect_client: PrefectClient, tmp_path: Path
) -> None:
    first = await launch("kube-proxy-down")
    cluster = first.sim.cluster
    services = add_services(cluster, 6)
    (tmp_path / "second").mkdir()
    second = engine_for(first.sim, tmp_path / "second", checklist_deployment, prefect_client)
    await second.start()
    try:
        engines = [first, second]
        runs = [await start_kube_proxy_down(first)]
        runs += await asyncio.gather(
            *(start_service_down(engines[n % 2], "shop", s) for n, s in enumerate(services))
        )
        states = await settled(first, runs)
        [owner] = [run for run, state in states.items() if state.type is StateType.PAUSED]
        # The engine that ran the owner goes away; the other one carries it on after the answer.
        await first.stop()
        await first.start()
        await second.stop()

        await first.answer(owner, approve=True)
        done = await first.wait_for(owner, within=120)
    finally:
        await second.stop()

    assert done.name == "Recovered", done
    assert kube_proxy_deletions(cluster) == 2
    assert len(first.notifier.requested) + len(second.notifier.requested) == 1
    joined = [run for run, state in states.items() if state.name == "JoinedIncident"]
    assert len(joined) == len(runs) - 1
    assert (await first.report(owner)).count("| working: ") == len(runs) - 1


async def test_two_nodes_alerts_are_one_incident_and_a_node_over_budget_goes_to_a_follow_up(
    launch: Launch, prefect_client: PrefectClient
) -> None:
    engine = await launch("kube-proxy-down")
    cluster = engine.sim.cluster
    nodes = sorted(crash_looping_nodes(cluster))
    alerts = {node: alert("KubeProxyNodeDown", f"deferred/{node}") for node in nodes}
    runs = [
        await engine.start_alert_run(
            alerts[node],
            runbook="kube-proxy-node-down",
            labels={"node": node},
            scope="node",
            instance=node,
            # One restart per run: the owner defers the other node to a follow-up.
            kube_proxy_restart_budget_fraction=0.01,
            kube_proxy_restart_hourly_budget_fraction=1.0,
        )
        for node in nodes
    ]
    # The owner waits for its answer until the other run has joined: approved at once, a
    # slow machine could let it close the incident before the other run got to it.
    states = await settled(engine, runs)
    [owner] = [run for run, state in states.items() if state.type is StateType.PAUSED]
    assert sorted(s.name or "" for s in states.values()) == ["JoinedIncident", "Suspended"]
    await engine.answer(owner, approve=True)
    assert (await engine.wait_for(owner, within=120)).name == "PartiallyMitigated"
    [follow_up] = await prefect_client.read_flow_runs(
        flow_run_filter=FlowRunFilter(tags=FlowRunFilterTags(all_=[FOLLOW_UP_OF_TAG + str(owner)]))
    )
    await engine.wait_for(follow_up.id, paused=True, within=120)
    await engine.answer(follow_up.id, approve=True)
    await _until_healed(cluster, within=120)

    report = await engine.report(owner)
    assert "deferred by this run's restart budget to follow-up run" in report
    tags = [FINGERPRINT_TAG + a.fingerprint for a in alerts.values()]
    created = await prefect_client.read_flow_runs(
        flow_run_filter=FlowRunFilter(tags=FlowRunFilterTags(any_=tags))
    )
    # The two alerts' runs and the follow-up: no run of its own for the deferred node's alert.
    assert len(created) == 3, [(r.name, r.idempotency_key) for r in created]
    assert kube_proxy_deletions(cluster) == 2


async def _until_healed(cluster: SimCluster, *, within: float) -> None:
    """Return once no kube-proxy pod crash-loops (the follow-up waves included)."""
    deadline = asyncio.get_running_loop().time() + within
    while crash_looping_nodes(cluster):
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"kube-proxy still crash-loops on {crash_looping_nodes(cluster)}")
        await asyncio.sleep(0.2)
