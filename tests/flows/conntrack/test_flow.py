"""The conntrack cleanup end to end: a real Prefect server, the simulated cluster over HTTP, the
engine's ServiceAccount exec-ing ``conntrack`` in kube-proxy pods, approvals through Prefect."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from simcluster import resources
from simcluster.conntrack import Flow
from tests.flows.checklist_engine import ChecklistEngine
from tests.flows.conftest import Launch, as_admin

NODES = [f"node-{index}" for index in range(1, 6)]


def kube_dns_ip(engine: ChecklistEngine) -> str:
    """kube-dns's ClusterIP."""
    service = engine.sim.cluster.store.get(resources.SERVICES, "kube-system", "kube-dns")
    return str(service["spec"]["clusterIP"])


def coredns_pods(engine: ChecklistEngine) -> list[dict[str, Any]]:
    """The CoreDNS pods that are not being deleted."""
    pods = engine.sim.cluster.store.list_objects(resources.PODS, namespace="kube-system")
    return [
        pod
        for pod in pods
        if pod["metadata"].get("labels", {}).get("k8s-app") == "kube-dns"
        and not pod["metadata"].get("deletionTimestamp")
    ]


def endpoint_ips(engine: ChecklistEngine) -> set[str]:
    """The addresses in kube-dns's EndpointSlices now."""
    slices = engine.sim.cluster.store.list_objects(
        resources.ENDPOINTSLICES, namespace="kube-system"
    )
    return {
        address
        for s in slices
        if s["metadata"].get("labels", {}).get("kubernetes.io/service-name") == "kube-dns"
        for endpoint in s.get("endpoints") or []
        for address in endpoint["addresses"]
    }


def answered_by(engine: ChecklistEngine, node: str, ip: str) -> list[Flow]:
    """The node's conntrack entries answered by ``ip``."""
    return [flow for flow in engine.sim.cluster.conntrack.flows(node) if flow.reply_src == ip]


async def delete_a_coredns_pod(engine: ChecklistEngine, within: float = 20) -> str:
    """Delete one CoreDNS pod (as a node drain would); its IP, once no endpoint has it."""
    for node in NODES:
        engine.sim.cluster.conntrack.flows(node)  # tables exist before, as on a real node
    [pod, *_] = coredns_pods(engine)
    gone = str(pod["status"]["podIP"])
    with as_admin(engine) as kube:
        kube.delete_pod(pod["metadata"]["name"], "kube-system")
    deadline = time.monotonic() + within
    while gone in endpoint_ips(engine):
        assert time.monotonic() < deadline, f"{gone} still an endpoint after {within}s"
        await asyncio.sleep(0.05)
    return gone


async def test_stale_dns_entries_of_a_deleted_pod_are_deleted_on_every_node_once_approved(
    launch_conntrack: Launch,
) -> None:
    engine = await launch_conntrack("healthy")
    gone = await delete_a_coredns_pod(engine)
    live = {node: len(engine.sim.cluster.conntrack.flows(node)) for node in NODES}
    stale = {node: len(answered_by(engine, node, gone)) for node in NODES}
    assert all(stale.values()), stale

    run_id = await engine.start_run(namespace="kube-system", service="kube-dns")
    await engine.wait_for(run_id, paused=True)

    [request] = engine.notifier.requested
    [item] = request.items
    assert item.key == "delete_stale_conntrack"
    vip = kube_dns_ip(engine)
    assert (
        f"node-1: conntrack -D --orig-dst {vip} --reply-src {gone}  # {stale['node-1']} entries"
        in item.diff
    )
    assert all(answered_by(engine, node, gone) for node in NODES), "deleted before approval"
    await engine.answer(run_id, approve=True)
    done = await engine.wait_for(run_id)

    assert done.name == "Cleaned", done
    for node in NODES:
        assert answered_by(engine, node, gone) == []
        assert len(engine.sim.cluster.conntrack.flows(node)) == live[node] - stale[node]
    report = await engine.report(run_id)
    assert "| clean node-1 | done |" in report
    assert f"{vip} answered by {gone}: {stale['node-1']} -> 0" in report
    assert f"deleted {sum(stale.values())} entries on 5 node(s); none left" in report


async def test_every_service_is_scanned_for_stale_udp_entries_when_none_is_named(
    launch_conntrack: Launch,
) -> None:
    engine = await launch_conntrack("healthy")
    gone = await delete_a_coredns_pod(engine)

    run_id = await engine.start_run(dry_run=True)
    done = await engine.wait_for(run_id)

    assert done.name == "DryRun", done
    assert all(answered_by(engine, node, gone) for node in NODES)
    report = await engine.report(run_id)
    assert "- node-3: " in report
    assert f"answered by {gone}, no longer an endpoint" in report


async def test_a_pod_ip_a_live_pod_has_is_not_cleaned(launch_conntrack: Launch) -> None:
    engine = await launch_conntrack("healthy")
    [pod, *_] = coredns_pods(engine)
    ip, name = pod["status"]["podIP"], pod["metadata"]["name"]

    run_id = await engine.start_run(pod_ip=ip)
    done = await engine.wait_for(run_id)

    assert done.name == "NothingToDo", done
    assert f"{ip} belongs to live pod kube-system/{name}" in (done.message or "")


async def test_the_entries_of_a_gone_pod_ip_are_deleted_wherever_they_are(
    launch_conntrack: Launch,
) -> None:
    engine = await launch_conntrack("healthy")
    gone = await delete_a_coredns_pod(engine)

    run_id = await engine.start_run(pod_ip=gone, auto_approve=True)
    done = await engine.wait_for(run_id)

    assert done.name == "Cleaned", done
    assert engine.notifier.requested == []
    assert all(answered_by(engine, node, gone) == [] for node in NODES)


async def test_a_rejected_cleanup_deletes_nothing(launch_conntrack: Launch) -> None:
    engine = await launch_conntrack("healthy")
    gone = await delete_a_coredns_pod(engine)
    run_id = await engine.start_run(pod_ip=gone)
    await engine.wait_for(run_id, paused=True)

    await engine.answer(run_id, approve=False, by="bob", reason="not now")
    done = await engine.wait_for(run_id)

    assert done.name == "Rejected", done
    assert all(answered_by(engine, node, gone) for node in NODES)
    assert "rejected by bob: not now; no entry was deleted" in await engine.report(run_id)


async def test_a_full_flush_asks_even_in_a_drill_and_then_empties_every_table(
    launch_conntrack: Launch,
) -> None:
    engine = await launch_conntrack("healthy", nodes=3)
    sizes = [len(engine.sim.cluster.conntrack.flows(node)) for node in NODES[:3]]
    run_id = await engine.start_run(full_flush=True, auto_approve=True)
    await engine.wait_for(run_id, paused=True)

    [request] = engine.notifier.requested
    [item] = request.items
    assert item.key == "flush_conntrack"
    assert "EVERY connection tracked on these nodes is forgotten" in item.blast_radius
    await engine.answer(run_id, approve=True)
    done = await engine.wait_for(run_id)

    assert done.name == "Cleaned", done
    assert all(engine.sim.cluster.conntrack.flows(node) == [] for node in NODES[:3])
    report = await engine.report(run_id)
    assert f"whole table flushed: {sizes[0]} -> 0" in report
