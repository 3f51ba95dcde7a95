"""Benchmark: the five-minute checklist end to end, and its Kubernetes API requests per run.

Run: ``uv run --frozen python -m bench.checklist_run [--large-nodes 5000 --large-services 20000]``.
Starts a local Prefect server (SQLite) in a temporary directory, registers the checklist's
deployment and runs it through the engine's warm executor, as the engine user (deploy/rbac).

1. A 50-node cluster with kube-proxy down on 3 nodes, the checklist auto-approved (a drill):
   wall time from run creation to its final state (target <= 20 s) and the report's phases.
2. API requests of one run on 10 nodes and on a large cluster (5,000 nodes, 20,000 Services):
   the count must not grow with the number of Services.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from uuid import UUID

from prefect.client.orchestration import PrefectClient, get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey
from prefect.client.schemas.sorting import ArtifactSort

from engine.deployments import DeploymentSpec, register_deployments
from engine.dispatch.alert_record import ReceiverRecordChecker
from engine.execution.executor import WarmExecutor
from engine.prefect_server import prefect_api
from flows.checklist.flow import DEPLOYMENT_NAME, service_checklist
from flows.checklist.report import report_key
from flows.runtime import AlertSources, FlowRuntime
from integrations.kubernetes import KubeConnection, connect
from simcluster.bulk import build_large_cluster
from simcluster.cluster import SimCluster
from simcluster.rbac import RbacPolicy
from simcluster.scenarios import build_cluster
from simcluster.server import DEPLOY_RBAC_DIR, SimServer
from simcluster.settings import SimSettings

SETTINGS = SimSettings(crash_backoff_seconds=300, probe_period_seconds=300)
SPEC = DeploymentSpec(flow=service_checklist, name=DEPLOYMENT_NAME)


@asynccontextmanager
async def served(cluster: SimCluster, state_dir: Path, deployment_id: UUID) -> AsyncIterator[None]:
    """Serve `cluster` (RBAC enforced) and an executor whose runs act on it as the engine user."""
    cluster.rbac = RbacPolicy.from_directory(DEPLOY_RBAC_DIR)
    with SimServer(cluster) as sim:
        kubeconfig = sim.write_kubeconfig(state_dir / "engine.kubeconfig", user="engine")
        connection = KubeConnection(kubeconfig=kubeconfig)
        executor = WarmExecutor(
            {deployment_id: service_checklist},
            poll_interval=0.05,
            runtime=FlowRuntime(
                kube_factory=lambda: connect(connection),
                alerts=AlertSources(record=ReceiverRecordChecker()),
                poll_interval_seconds=0.1,
            ),
        )
        await executor.start()
        try:
            yield
        finally:
            await executor.stop()


async def run_once(
    client: PrefectClient, deployment_id: UUID, *, runbook: str, **parameters: Any
) -> tuple[float, str, str]:
    """Run the checklist once; its wall time, final state name and report."""
    started = time.perf_counter()
    run = await client.create_flow_run_from_deployment(
        deployment_id, parameters=parameters, tags=[f"runbook:{runbook}"]
    )
    while True:
        current = await client.read_flow_run(run.id)
        if current.state is not None and current.state.is_final():
            break
        await asyncio.sleep(0.02)
    seconds = time.perf_counter() - started
    artifacts = await client.read_artifacts(
        artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[report_key(str(run.id))])),
        sort=ArtifactSort.CREATED_DESC,
        limit=1,
    )
    return seconds, current.state.name or "", str(artifacts[0].data) if artifacts else ""


def timeline(report: str) -> list[str]:
    """The report's phase rows and verdict."""
    lines = report.split("## Timeline", 1)[-1].strip().splitlines()
    return [line for line in lines if line.startswith("| ") or line.startswith("Total")]


async def kube_proxy_drill(client: PrefectClient, deployment_id: UUID, state_dir: Path) -> None:
    """50 nodes, kube-proxy down on 3, the drill auto-approved."""
    cluster = build_cluster(nodes=50, settings=SETTINGS)
    cluster.faults.kube_proxy_down(nodes=["node-2", "node-3", "node-4"])
    cluster.settle(timeout=2.0)
    with cluster.health.lock:  # the trouble passed: restarted pods come up fine
        cluster.health.kube_proxy_down_nodes.clear()
    async with served(cluster, state_dir, deployment_id):
        seconds, state, report = await run_once(
            client, deployment_id, runbook="kube-proxy-down", scope="cluster", auto_approve=True
        )
    print("1. 50 nodes, kube-proxy down on 3, auto-approved")
    print(f"   final state: {state}; wall time {seconds:.2f} s (target <= 20 s)")
    print(f"   API requests: {cluster.requests.total()} (deletes: ", end="")
    print(f"{cluster.requests.total(verb='delete')})")
    for line in timeline(report):
        print(f"   {line}")


async def requests_per_run(
    client: PrefectClient, deployment_id: UUID, state_dir: Path, cluster: SimCluster, label: str
) -> None:
    """API requests of a Service-scoped and of a cluster-scoped run on a healthy cluster."""
    service = ("app-0", "svc-0") if "app-0" in _namespaces(cluster) else ("shop", "web")
    async with served(cluster, state_dir, deployment_id):
        for scope, extra in (
            ("service", {"namespace": service[0], "service": service[1]}),
            ("cluster", {}),
        ):
            cluster.requests.reset()
            seconds, state, _ = await run_once(
                client, deployment_id, runbook="service-down", scope=scope, **extra
            )
            by_kind = ", ".join(
                f"{verb} {resource}: {count}"
                for (verb, resource), count in sorted(cluster.requests.snapshot().items())
            )
            print(
                f"   {label}, scope {scope}: {cluster.requests.total()} requests "
                f"({state}, {seconds:.2f} s) [{by_kind}]"
            )


def _namespaces(cluster: SimCluster) -> set[str]:
    from simcluster import resources

    return {ns["metadata"]["name"] for ns in cluster.store.list_objects(resources.NAMESPACES)}


async def main(large_nodes: int, large_services: int) -> None:
    """Run both measurements against a throwaway Prefect server."""
    with tempfile.TemporaryDirectory() as tmp:
        state_dir = Path(tmp)
        os.environ.setdefault("PREFECT_HOME", str(state_dir / "prefect-home"))
        with prefect_api(state_dir, ui=False):
            ids = await register_deployments([SPEC])
            deployment_id = ids[SPEC.full_name]
            async with get_client() as client:
                await kube_proxy_drill(client, deployment_id, state_dir)
                print("2. Kubernetes API requests per run (healthy clusters)")
                small = build_cluster(nodes=10)
                await requests_per_run(client, deployment_id, state_dir, small, "10 nodes")
                built = time.perf_counter()
                large = build_large_cluster(
                    nodes=large_nodes, services=large_services, pods=large_services * 2
                )
                label = f"{large_nodes} nodes, {large_services} Services"
                print(f"   (built {label} in {time.perf_counter() - built:.1f} s)")
                await requests_per_run(client, deployment_id, state_dir, large, label)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--large-nodes", type=int, default=5000)
    parser.add_argument("--large-services", type=int, default=20_000)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.large_nodes, arguments.large_services))
