"""Benchmark: a big incident: 1,000 ServiceDown alerts in 20 s, kube-proxy failing on 3 of 50 nodes.

Run: ``uv run --frozen python -m bench.incident_storm [--alerts 1000] [--seconds 20]
[--nodes 50] [--broken 3] [--join-rate 200] [--join-seconds 5] [--database sqlite|postgres]``.

The whole engine (``assemble_engine``: receiver, dispatcher, warm executor, sweeper) serves in a
child process over a real Prefect server (SQLite; PostgreSQL with ``--database postgres``, as
a scaled-out install runs) and a simulated cluster of ``--nodes`` nodes whose kube-proxy is
wedged on ``--broken`` of them, with one Service per alert (all selecting one healthy
Deployment). This process sends one ServiceDown alert per webhook request, open
loop: ``--alerts`` in ``--seconds``, then ``--join-rate`` requests per second of new alerts for
``--join-seconds`` while the incident is open (every one of those should join it). Then it
approves the one request through Prefect's API (as the UI's resume form does) and waits for
the owner run to end.

Printed, against the issue's targets: approval requests (1), kube-proxy pod deletions (the
broken nodes), time from the first alert to the approval request (≤ 2 s), acknowledgement
p50/p99 of alerts that joined (p99 ≤ 100 ms at 200/s) and of those that created a run, Prefect
runs created, and the engine process's memory.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import orjson
from prefect.client.orchestration import PrefectClient
from prefect.client.schemas.filters import (
    DeploymentFilter,
    DeploymentFilterId,
    FlowRunFilter,
    FlowRunFilterState,
    FlowRunFilterStateType,
)
from prefect.client.schemas.objects import StateType

from bench.harness import (
    CHECKLIST,
    child_process,
    describe_ms,
    grouped_notification,
    open_loop,
    percentile,
)
from bench.postgres import running_postgres
from engine.responsive import settle_for_serving
from flows.approval.store import read_request
from simcluster import manifests
from simcluster.rbac import RbacPolicy
from simcluster.scenarios import build_cluster
from simcluster.server import DEPLOY_RBAC_DIR, SimServer
from simcluster.settings import SimSettings
from tests.e2e.prefect_environment import local_prefect
from tests.e2e.served_engine import BEARER, ServedEngine, simulated_access

NAMESPACE = "storm"
HTTP = [{"name": "http", "containerPort": 8080, "protocol": "TCP"}]
PORTS = [{"name": "http", "port": 80, "protocol": "TCP", "targetPort": "http"}]
CLUSTER_SETTINGS = SimSettings(
    pod_start_delay=0.05,
    pod_ready_delay=0.05,
    crash_backoff_seconds=300,
    probe_period_seconds=300,
)
JOIN_TARGET = 0.100
FIRST_REQUEST_TARGET = 2.0


@dataclass(frozen=True)
class Shape:
    """The incident: cluster size, broken nodes, Services."""

    nodes: int
    broken: int
    services: int


@dataclass(frozen=True)
class Endpoints:
    """Where the child's engine and Prefect listen, and its process id (picklable)."""

    url: str
    api_url: str
    checklist_id: str
    pid: int


def _cluster(shape: Shape) -> SimServer:
    cluster = build_cluster(nodes=shape.nodes, settings=CLUSTER_SETTINGS)
    cluster.rbac = RbacPolicy.from_directory(DEPLOY_RBAC_DIR)
    cluster.create(manifests.namespace(NAMESPACE))
    cluster.create(
        manifests.deployment(
            NAMESPACE, "web", image="registry.example.com/web:1", replicas=3, ports=HTTP
        )
    )
    for number in range(shape.services):
        cluster.create(
            manifests.service(NAMESPACE, f"svc-{number}", ports=PORTS, selector={"app": "web"})
        )
    cluster.settle(timeout=30.0)
    cluster.faults.kube_proxy_down([f"node-{n}" for n in range(1, shape.broken + 1)])
    cluster.settle(timeout=5.0)
    return SimServer(cluster)


@contextmanager
def _engine(workdir: Path, kubeconfig: Path, database: str) -> Iterator[tuple[ServedEngine, str]]:
    with ExitStack() as parts:
        server_settings = None
        if database == "postgres":
            url = parts.enter_context(running_postgres())
            server_settings = {"PREFECT_API_DATABASE_CONNECTION_URL": url}
        prefect = parts.enter_context(
            local_prefect(workdir / "prefect", server_settings=server_settings)
        )
        engine = ServedEngine(access=simulated_access(kubeconfig))
        engine.start()
        settle_for_serving()  # as `runbooks up` does once the engine is assembled
        parts.callback(engine.stop)
        yield engine, prefect.api_url


def _serve_cluster(workdir: Path, shape: Shape, pipe: Connection) -> None:
    with _cluster(shape) as sim:
        pipe.send(sim.write_kubeconfig(workdir / "engine.kubeconfig", user="engine"))
        while (message := pipe.recv()) != "stop":
            if message == "deletions":
                pipe.send(sim.cluster.requests.total(verb="delete", resource="pods"))


def _serve(workdir: Path, kubeconfig: Path, database: str, pipe: Connection) -> None:
    with _engine(workdir, kubeconfig, database) as (engine, api_url):
        checklist = str(engine.deployment_ids[CHECKLIST])
        pipe.send(Endpoints(engine.url, api_url, checklist, os.getpid()))
        while pipe.recv() != "stop":
            pass


@contextmanager
def engine_process(
    workdir: Path, shape: Shape, database: str
) -> Iterator[tuple[Endpoints, Connection]]:
    """The simulated cluster and the engine, each in a process of its own.

    As in a cluster, the API server's work (and kube-proxy's, and the controllers') is not
    done in the engine's process; this one is the load generator, as Alertmanager is.

    Yields:
        Where the engine listens, and the cluster's pipe (it answers ``"deletions"``).
    """
    with (
        child_process(
            _serve_cluster, (workdir, shape), name="bench-cluster", startup_timeout=300
        ) as (kubeconfig, cluster),
        child_process(
            _serve, (workdir, kubeconfig, database), name="bench-engine", startup_timeout=300
        ) as (endpoints, _),
    ):
        yield endpoints, cluster


@dataclass
class Acks:
    """Acknowledgement latencies by what became of the alert."""

    by_outcome: dict[str, list[float]] = field(default_factory=dict)
    statuses: Counter[int | str] = field(default_factory=Counter)
    first_sent: float | None = None

    def add(self, outcome: str, seconds: float) -> None:
        """Record one answer."""
        self.by_outcome.setdefault(outcome, []).append(seconds)


def _bodies(first: int, count: int, starts_at: datetime) -> list[bytes]:
    return [
        orjson.dumps(
            grouped_notification(
                [{"alertname": "ServiceDown", "namespace": NAMESPACE, "service": f"svc-{n}"}],
                starts_at=starts_at,
                group=f"svc-{n}",
            )
        )
        for n in range(first, first + count)
    ]


async def _send(client: httpx.AsyncClient, url: str, body: bytes, acks: Acks) -> None:
    headers = {**BEARER, "Content-Type": "application/json"}
    if acks.first_sent is None:
        acks.first_sent = time.time()
    began = time.perf_counter()
    try:
        response = await client.post(url, content=body, headers=headers)
    except httpx.HTTPError as error:
        acks.statuses[type(error).__name__] += 1
        return
    took = time.perf_counter() - began
    acks.statuses[response.status_code] += 1
    if response.status_code != httpx.codes.OK:
        acks.add(f"status {response.status_code}", took)
        return
    for alert in response.json().get("alerts", []):
        acks.add(str(alert.get("outcome")), took)


async def _first_request(client: PrefectClient, checklist: UUID, *, within: float) -> Any:
    """The one approval request, once a run of the checklist waits on it."""
    deadline = time.monotonic() + within
    paused = FlowRunFilter(
        state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.PAUSED]))
    )
    deployments = DeploymentFilter(id=DeploymentFilterId(any_=[checklist]))
    while time.monotonic() < deadline:
        runs = await client.read_flow_runs(
            flow_run_filter=paused, deployment_filter=deployments, limit=50
        )
        if runs:
            return runs
        await asyncio.sleep(0.2)
    return []


async def storm(endpoints: Endpoints, pipe: Connection, args: argparse.Namespace) -> None:
    """Send the storm, approve the one request, print the figures."""
    url = f"{endpoints.url}/alertmanager"
    starts_at = datetime.now(UTC)
    storm_acks, join_acks = Acks(), Acks()
    rate = args.alerts / args.seconds
    async with (
        httpx.AsyncClient(timeout=30) as http,
        PrefectClient(endpoints.api_url) as prefect,
    ):
        bodies = _bodies(0, args.alerts, starts_at)
        await open_loop(
            lambda i: _send(http, url, bodies[i], storm_acks), rate=rate, count=len(bodies)
        )
        checklist = UUID(endpoints.checklist_id)
        paused = await _first_request(prefect, checklist, within=120)
        joins = int(args.join_rate * args.join_seconds)
        more = _bodies(args.alerts, joins, starts_at)
        requests = [await read_request(prefect, run.id, "checklist-approval") for run in paused]
        asked = [r for r in requests if r is not None]
        first = min((r.requested_at.timestamp() for r in asked), default=float("nan"))
        # Approved half-way through the join phase, as the UI's Resume button sends it.
        resumes, _ = await asyncio.gather(
            _resume_midway(http, endpoints.api_url, paused, after=args.join_seconds / 2),
            open_loop(
                lambda i: _send(http, url, more[i], join_acks), rate=args.join_rate, count=joins
            ),
        )
        ended = await _until_final(prefect, [run.id for run in paused], within=300)
        pipe.send("deletions")
        deletions = pipe.recv()
        runs = await prefect.count_flow_runs(
            deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[checklist]))
        )
    since_first = first - (storm_acks.first_sent or first)
    print(f"approval requests:            {len(asked)}  (target 1)")
    print(f"kube-proxy pod deletions:     {deletions}  (target {args.broken})")
    verdict = "met" if since_first <= FIRST_REQUEST_TARGET else "MISSED"
    print(f"first alert -> request:       {since_first:.2f} s  (target <= 2 s: {verdict})")
    print(f"owner run(s) ended:           {', '.join(ended) or '-'}")
    print(f"UI resume during the joins:   {resumes}")
    print(f"Prefect runs created:         {runs}  (for {args.alerts + joins} alerts)")
    print(f"engine memory (RSS):          {_rss_mb(endpoints.pid):.0f} MB")
    print(f"storm @{rate:g}/s statuses:    {dict(storm_acks.statuses)}")
    for outcome, seconds in sorted(storm_acks.by_outcome.items()):
        print(describe_ms(f"  storm ack, {outcome}", seconds))
    print(f"joins @{args.join_rate:g}/s statuses:   {dict(join_acks.statuses)}")
    for outcome, seconds in sorted(join_acks.by_outcome.items()):
        print(describe_ms(f"  join-phase ack, {outcome}", seconds))
    joined = join_acks.by_outcome.get("joined", [])
    met = "met" if joined and percentile(joined, 0.99) <= JOIN_TARGET else "MISSED"
    print(f"joining alerts p99 <= 100 ms at {args.join_rate:g}/s: {met}")


async def _resume_midway(
    http: httpx.AsyncClient, api_url: str, paused: Sequence[Any], *, after: float
) -> str:
    """Resume each waiting run after `after` s as the UI's form does; each answer and time."""
    await asyncio.sleep(after)
    said: list[str] = []
    for run in paused:
        body = {"run_input": {"approve": True, "by": "bench", "reason": "benchmark"}}
        began = time.perf_counter()
        refused = 0
        for _ in range(20):  # as a person presses Resume again when the UI says it failed
            answer = await http.post(f"{api_url}/flow_runs/{run.id}/resume", json=body)
            if answer.status_code < httpx.codes.INTERNAL_SERVER_ERROR:
                break
            refused += 1
            await asyncio.sleep(0.5)
        took = (time.perf_counter() - began) * 1000
        status = answer.json().get("status") if answer.status_code == httpx.codes.OK else "-"
        again = f" after {refused} refusal(s)" if refused else ""
        said.append(f"HTTP {answer.status_code} {status} in {took:.0f} ms{again}")
    return "; ".join(said) or "nothing waited"


async def _until_final(client: PrefectClient, runs: Sequence[UUID], *, within: float) -> list[str]:
    deadline = time.monotonic() + within
    names: list[str] = []
    for run_id in runs:
        while time.monotonic() < deadline:
            run = await client.read_flow_run(run_id)
            if run.state is not None and run.state.is_final():
                names.append(str(run.state.name))
                break
            await asyncio.sleep(0.5)
    return names


def _rss_mb(pid: int) -> float:
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def main(argv: Sequence[str] | None = None) -> None:
    """Parse arguments, serve the engine, run the storm."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--alerts", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--nodes", type=int, default=50)
    parser.add_argument("--broken", type=int, default=3)
    parser.add_argument("--join-rate", type=float, default=200.0)
    parser.add_argument("--join-seconds", type=float, default=5.0)
    parser.add_argument(
        "--database",
        choices=("sqlite", "postgres"),
        default="sqlite",
        help="Prefect's database: the embedded default, or PostgreSQL as a scaled-out install",
    )
    args = parser.parse_args(argv)
    joins = int(args.join_rate * args.join_seconds)
    shape = Shape(nodes=args.nodes, broken=args.broken, services=args.alerts + joins)
    print(
        f"incident: kube-proxy wedged on {shape.broken} of {shape.nodes} nodes; "
        f"{args.alerts} ServiceDown alerts in {args.seconds:g} s, then {joins} more at "
        f"{args.join_rate:g}/s; {args.database}; one alert per request"
    )
    with (
        tempfile.TemporaryDirectory(prefix="bench-incident-") as workdir,
        engine_process(Path(workdir), shape, args.database) as (endpoints, pipe),
    ):
        asyncio.run(storm(endpoints, pipe, args))


if __name__ == "__main__":
    main()
