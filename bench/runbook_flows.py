"""Benchmark: the rollback and conntrack flows end to end, and a Slack press resuming a run.

Run: ``uv run --frozen python -m bench.runbook_flows [--nodes 50 --repeat 5]``.
Starts a local Prefect server (SQLite) in a temporary directory and runs the flows through the
engine's warm executor, as the engine user (deploy/rbac), on simulated clusters over HTTP.

1. kube-proxy rollback of a bad rollout on N nodes, approved by policy (a drill): wall time
   from run creation to ``RolledBack`` (median of the repeats), and API requests per run.
2. conntrack cleanup after a CoreDNS pod is deleted, on N nodes (a drill): wall time to
   ``Cleaned``, entries deleted, exec calls per run.
3. A signed Slack press on a waiting rollback: the endpoint's answer time, and the time until
   the run is Running again, when the endpoint hands the resumed run to the executor at once
   and when only the executor's 2 s poll finds it (ratio of the medians).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import uvicorn
from prefect import Flow
from prefect.client.orchestration import PrefectClient, get_client
from prefect.client.schemas.objects import StateType
from starlette.applications import Starlette
from starlette.routing import Route

from engine.approvals.slack import SlackActions
from engine.deployments import DeploymentSpec, register_deployments
from engine.execution.executor import WarmExecutor
from engine.prefect_server import prefect_api
from flows.approval.slack import SlackNotifier
from flows.conntrack import flow as conntrack
from flows.rollback import flow as rollback
from flows.runtime import FlowRuntime
from integrations.kubernetes import KubeConnection, connect
from integrations.slack import SlackChannel, SlackCredentials
from simcluster import resources
from simcluster.cluster import SimCluster
from simcluster.rbac import RbacPolicy
from simcluster.scenarios import build_cluster
from simcluster.server import DEPLOY_RBAC_DIR, SimServer, listening_socket
from simcluster.settings import SimSettings
from tests.slack_fake import FakeSlack
from tests.slack_press import SIGNING_SECRET, requests_in, signed_press

SETTINGS = SimSettings(
    pod_start_delay=0.05, pod_ready_delay=0.05, crash_backoff_seconds=300, probe_period_seconds=300
)
ROLLBACK = DeploymentSpec(flow=rollback.kube_proxy_rollback, name=rollback.DEPLOYMENT_NAME)
CONNTRACK = DeploymentSpec(flow=conntrack.conntrack_cleanup, name=conntrack.DEPLOYMENT_NAME)
PRODUCTION_POLL = 2.0


@asynccontextmanager
async def engine_on(
    cluster: SimCluster,
    state_dir: Path,
    flows: Mapping[UUID, Flow[..., Any]],
    *,
    poll_interval: float = 0.05,
    **runtime: Any,
) -> AsyncIterator[WarmExecutor]:
    """Serve `cluster` (RBAC enforced); an executor whose runs act on it as the engine user."""
    cluster.rbac = RbacPolicy.from_directory(DEPLOY_RBAC_DIR)
    with SimServer(cluster) as sim:
        kubeconfig = sim.write_kubeconfig(state_dir / "engine.kubeconfig", user="engine")
        connection = KubeConnection(kubeconfig=kubeconfig)
        executor = WarmExecutor(
            flows,
            poll_interval=poll_interval,
            runtime=FlowRuntime(
                kube_factory=lambda: connect(connection), poll_interval_seconds=0.1, **runtime
            ),
        )
        await executor.start()
        try:
            yield executor
        finally:
            await executor.stop()


async def until(client: PrefectClient, run_id: UUID, done: Callable[[Any], bool]) -> Any:
    """Read the run every 10 ms until ``done(state)``; the state."""
    while True:
        state = (await client.read_flow_run(run_id)).state
        if state is not None and done(state):
            return state
        await asyncio.sleep(0.01)


async def timed_run(
    client: PrefectClient, executor: WarmExecutor, deployment_id: UUID, **parameters: Any
) -> tuple[float, str]:
    """Create a run, hand it to the executor; wall time to its final state, and its name."""
    started = time.perf_counter()
    run = await client.create_flow_run_from_deployment(deployment_id, parameters=parameters)
    executor.launch(run)
    state = await until(client, run.id, lambda s: s.is_final())
    return time.perf_counter() - started, state.name or ""


async def left(executor: WarmExecutor, run_id: UUID) -> None:
    """Wait until the run's turn on the executor has ended."""
    while True:
        if run_id not in executor.active_runs:
            return
        await asyncio.sleep(0.01)


def bad_rollout(nodes: int) -> SimCluster:
    """A cluster whose kube-proxy rollout stalls on a crashing image."""
    cluster = build_cluster(nodes=nodes, scenario="bad-kube-proxy-rollout", settings=SETTINGS)
    cluster.settle(timeout=5.0)
    return cluster


def without_a_coredns_pod(nodes: int) -> SimCluster:
    """A cluster whose every node has stale DNS entries to a deleted CoreDNS pod."""
    cluster = build_cluster(nodes=nodes, settings=SETTINGS)
    cluster.settle(timeout=5.0)
    for index in range(1, nodes + 1):
        cluster.conntrack.flows(f"node-{index}")
    pods = cluster.store.list_objects(resources.PODS, namespace="kube-system")
    dns = next(p for p in pods if p["metadata"].get("labels", {}).get("k8s-app") == "kube-dns")
    cluster.store.delete(resources.PODS, "kube-system", dns["metadata"]["name"])
    cluster.settle(timeout=5.0)
    return cluster


async def repeat(
    label: str,
    times: int,
    make: Callable[[], SimCluster],
    run: Callable[[SimCluster], Awaitable[tuple[float, str]]],
    count: Callable[[SimCluster], str],
) -> None:
    """Run ``times`` times on fresh clusters; print the median wall time and the last counts."""
    walls, names, counts = [], set(), ""
    for _ in range(times):
        cluster = make()
        cluster.requests.reset()
        seconds, name = await run(cluster)
        walls.append(seconds)
        names.add(name)
        counts = count(cluster)
    print(f"{label}: {', '.join(sorted(names))}; wall time median {statistics.median(walls):.2f} s")
    print(f"   min {min(walls):.2f} s, max {max(walls):.2f} s; last run: {counts}")


async def slack_resume(
    client: PrefectClient,
    ids: dict[str, UUID],
    state_dir: Path,
    *,
    times: int,
    hand_over: bool,
) -> tuple[list[float], list[float]]:
    """Press Approve on waiting rollbacks; the endpoint's answer times and press-to-Running."""
    answers, resumed = [], []
    with FakeSlack(token="xoxb-test") as slack:
        credentials = SlackCredentials(
            bot_token="xoxb-test",
            signing_secret=SIGNING_SECRET,
            channel="C0123ABC",
            api_url=slack.base_url,
        )
        channel = SlackChannel(credentials.get_client(), credentials.channel)
        for _ in range(times):
            cluster = bad_rollout(5)
            async with engine_on(
                cluster,
                state_dir,
                {ids[ROLLBACK.full_name]: rollback.kube_proxy_rollback},
                poll_interval=PRODUCTION_POLL,
                notifier=SlackNotifier(channel),
            ) as executor:
                actions = SlackActions(
                    signing_secret=SIGNING_SECRET,
                    channel=channel,
                    launcher=executor if hand_over else None,
                )
                app = Starlette(routes=[Route("/i", actions.handle, methods=["POST"])])
                sock = listening_socket("127.0.0.1", 0)
                server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
                serving = asyncio.create_task(server.serve(sockets=[sock]))
                try:
                    before = len(slack.calls("chat.postMessage"))
                    run = await client.create_flow_run_from_deployment(ids[ROLLBACK.full_name])
                    executor.launch(run)
                    await until(client, run.id, lambda s: s.type is StateType.PAUSED)
                    slack.wait_for("chat.postMessage", count=before + 1)
                    # The last approval request (a run's thread has other lines too).
                    posted = requests_in(slack.calls("chat.postMessage"))[-1]
                    # A human reads before pressing; by then the suspended run has left the
                    # executor (a press within milliseconds would find it still finishing).
                    await left(executor, run.id)
                    body, headers = signed_press(posted, "approve", user="U0123ABCD")
                    url = f"http://127.0.0.1:{sock.getsockname()[1]}/i"
                    pressed = time.perf_counter()
                    async with httpx.AsyncClient() as http:
                        answer = await http.post(url, content=body, headers=headers)
                    answers.append(time.perf_counter() - pressed)
                    assert answer.status_code == 200, answer.text
                    await until(client, run.id, lambda s: s.type is StateType.RUNNING)
                    resumed.append(time.perf_counter() - pressed)
                    await until(client, run.id, lambda s: s.is_final())
                finally:
                    server.should_exit = True
                    await serving
                    sock.close()
    return answers, resumed


async def main(nodes: int, times: int) -> None:
    """Run the three measurements against a throwaway Prefect server."""
    with tempfile.TemporaryDirectory() as tmp:
        state_dir = Path(tmp)
        os.environ.setdefault("PREFECT_HOME", str(state_dir / "prefect-home"))
        with prefect_api(state_dir, ui=False):
            ids = await register_deployments([ROLLBACK, CONNTRACK])
            flows: dict[UUID, Flow[..., Any]] = {
                ids[ROLLBACK.full_name]: rollback.kube_proxy_rollback,
                ids[CONNTRACK.full_name]: conntrack.conntrack_cleanup,
            }
            async with get_client() as client:

                async def roll_back(cluster: SimCluster) -> tuple[float, str]:
                    async with engine_on(cluster, state_dir, flows) as executor:
                        return await timed_run(
                            client, executor, ids[ROLLBACK.full_name], auto_approve=True
                        )

                async def clean(cluster: SimCluster) -> tuple[float, str]:
                    async with engine_on(cluster, state_dir, flows) as executor:
                        return await timed_run(
                            client,
                            executor,
                            ids[CONNTRACK.full_name],
                            namespace="kube-system",
                            service="kube-dns",
                            auto_approve=True,
                        )

                await repeat(
                    f"1. rollback, {nodes} nodes",
                    times,
                    lambda: bad_rollout(nodes),
                    roll_back,
                    lambda c: (
                        f"{c.requests.total()} API requests "
                        f"({c.requests.total(verb='patch')} patch)"
                    ),
                )
                await repeat(
                    f"2. conntrack cleanup, {nodes} nodes",
                    times,
                    lambda: without_a_coredns_pod(nodes),
                    clean,
                    lambda c: (
                        f"{c.requests.total()} API requests "
                        f"({c.requests.total(verb='create')} exec)"
                    ),
                )
                polled = await slack_resume(client, ids, state_dir, times=times, hand_over=False)
                handed = await slack_resume(client, ids, state_dir, times=times, hand_over=True)
    print("3. Slack Approve press on a waiting rollback (5 nodes)")
    for label, (answers, resumed) in (("executor poll only", polled), ("handed over", handed)):
        print(
            f"   {label:<18}: endpoint answers median {statistics.median(answers) * 1000:.0f} ms,"
            f" run Running again after median {statistics.median(resumed) * 1000:.0f} ms"
        )
    ratio = statistics.median(polled[1]) / statistics.median(handed[1])
    print(f"   press-to-Running, poll / hand-over: {ratio:.1f}x")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=5)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.nodes, arguments.repeat))
