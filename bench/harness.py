"""Shared benchmark helpers: percentiles, open-loop traffic, webhook payloads and served engines.

Two ways to serve the receiver on 127.0.0.1 with a real Prefect server behind it:
- `full_engine`: ``assemble_engine`` as ``runbooks up`` builds it (warm executor included), over
  a simulated cluster; created runs are executed in the engine process.
- `handoff_engine`: the same receiver, catalog and ``PrefectDispatcher`` without a launcher and
  without the executor, so runs stay Scheduled: it measures the handoff, not flow execution.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import multiprocessing
import os
import time
from collections.abc import Callable, Coroutine, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Literal, TypeVar

import httpx
from prometheus_client import CollectorRegistry

from engine.app import build_engine_app
from engine.deployments import (
    deployment_parameters,
    parameter_checks,
    product_deployments,
    register_deployments,
)
from engine.dispatch.dispatcher import PrefectDispatcher
from engine.intake.alert_plan import catalog_matcher
from engine.intake.receiver import build_receiver
from engine.prefect_server import PrefectServer
from engine.responsive import settle_for_serving
from engine.startup import Engine
from flows.checklist.flow import DEPLOYMENT_NAME, FLOW_NAME
from runbooks import load_catalog
from simcluster.manifests import service
from simcluster.server import SimServer
from tests.e2e.prefect_environment import local_prefect
from tests.e2e.served_engine import AUTH, ServedEngine, simulated_access

# Re-exported: the benchmarks build their webhook payloads as the end-to-end tests do.
from tests.e2e.storm import grouped_notification as grouped_notification
from tests.e2e.storm import service_down_labels as service_down_labels

CHECKLIST = f"{FLOW_NAME}/{DEPLOYMENT_NAME}"
HTTP_PORTS = [{"name": "http", "port": 80, "protocol": "TCP", "targetPort": "http"}]


Outcome = TypeVar("Outcome")


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile (NaN for no values)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(math.ceil(fraction * len(ordered)) - 1, 0)]


def prefect_server_pid(api_url: str) -> int | None:
    """The process serving the Prefect API at ``api_url`` (``... server start ... --port N``)."""
    port = str(httpx.URL(api_url).port).encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            command = (entry / "cmdline").read_bytes().split(b"\0")
            if b"server" in command and port in command:
                return int(entry.name)
    return None


def process_status(pid: int | None, field: str) -> float:
    """A number from ``/proc/<pid>/status`` (``VmRSS`` in kB, ``Threads``); NaN when unknown."""
    if pid is not None:
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith(f"{field}:"):
                    return float(line.split()[1])
    return math.nan


def cpu_seconds(pid: int | None) -> float:
    """CPU time (user + system) a process has used so far; NaN when unknown or gone."""
    if pid is not None:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return math.nan


def describe_ms(name: str, seconds: Sequence[float]) -> str:
    """One line: count, p50, p99 and max of latencies given in seconds, in milliseconds."""
    if not seconds:
        return f"{name:<44} n=0"
    return (
        f"{name:<44} n={len(seconds):<5} p50={percentile(seconds, 0.5) * 1000:8.1f} ms  "
        f"p99={percentile(seconds, 0.99) * 1000:8.1f} ms  max={max(seconds) * 1000:8.1f} ms"
    )


async def open_loop(
    send: Callable[[int], Coroutine[Any, Any, Outcome]], *, rate: float, count: int
) -> list[Outcome]:
    """Start ``send(i)`` for i < count on a fixed schedule (``rate`` per second), whatever the
    answers; return what each call returned (open loop: a slow answer does not delay the next
    request, so queueing shows up in the figures).
    """
    began = time.perf_counter()
    calls: list[asyncio.Task[Outcome]] = []
    for index in range(count):
        delay = began + index / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        calls.append(asyncio.create_task(send(index)))
    return list(await asyncio.gather(*calls))


@dataclass(frozen=True)
class BenchEngine:
    """A served engine, its Prefect server and (for the full engine) its simulated cluster."""

    engine: ServedEngine
    prefect: PrefectServer
    sim: SimServer | None

    @property
    def checklist_id(self) -> Any:
        """The checklist deployment's id."""
        return self.engine.deployment_ids[CHECKLIST]

    def add_services(self, namespace: str, names: Sequence[str], *, app: str = "web") -> None:
        """Give the simulated cluster healthy Services selecting ``app`` pods (full engine)."""
        if self.sim is None:
            raise RuntimeError("the handoff engine has no cluster")
        for name in names:
            self.sim.cluster.create(
                service(namespace, name, ports=HTTP_PORTS, selector={"app": app})
            )
        self.sim.cluster.settle()


@contextmanager
def full_engine(
    workdir: Path,
    *,
    server_settings: Mapping[str, str] | None = None,
    alertmanager_url: str | None = None,
) -> Iterator[BenchEngine]:
    """Prefect server + simulated cluster + ``assemble_engine`` served by uvicorn."""
    with ExitStack() as parts:
        prefect = parts.enter_context(
            local_prefect(workdir / "prefect", server_settings=server_settings)
        )
        sim = parts.enter_context(SimServer())
        kubeconfig = sim.write_kubeconfig(workdir / "engine.kubeconfig", user="engine")
        engine = ServedEngine(
            access=simulated_access(kubeconfig), alertmanager_url=alertmanager_url
        )
        engine.start()
        settle_for_serving()  # as `runbooks up` does once the engine is assembled
        parts.callback(engine.stop)
        yield BenchEngine(engine=engine, prefect=prefect, sim=sim)


@contextmanager
def handoff_engine(
    workdir: Path, *, server_settings: Mapping[str, str] | None = None
) -> Iterator[BenchEngine]:
    """Prefect server + the receiver and dispatcher alone: runs are created, none executed."""

    async def assemble() -> Engine:
        specs = product_deployments()
        catalog = load_catalog(known_deployments=deployment_parameters(specs))
        deployment_ids = await register_deployments(specs)
        dispatcher = PrefectDispatcher(deployment_ids, parameter_checks=parameter_checks(specs))

        async def cluster_ready() -> None:
            return None

        receiver = build_receiver(
            dispatcher=dispatcher,
            matcher=catalog_matcher(catalog),
            auth=AUTH,
            registry=CollectorRegistry(),
            kubernetes_check=cluster_ready,
        )
        app = build_engine_app(receiver, services=(), on_shutdown=(dispatcher.aclose,))
        return Engine(app=app, deployment_ids=deployment_ids)

    with local_prefect(workdir / "prefect", server_settings=server_settings) as prefect:
        engine = ServedEngine(assemble=assemble)
        engine.start()
        settle_for_serving()  # as `runbooks up` does once the engine is assembled
        try:
            yield BenchEngine(engine=engine, prefect=prefect, sim=None)
        finally:
            engine.stop()


@dataclass(frozen=True)
class EngineEndpoints:
    """Where an engine served by another process listens (picklable).

    Attributes:
        url: The engine's base URL.
        api_url: Its Prefect API.
        checklist_id: The checklist deployment's id.
        pid: The engine's process.
        sim_url: The simulated cluster's plain-HTTP URL (its fault API), for the full engine.
        deployment_ids: Every deployment's id, by ``flow/deployment`` name.
    """

    url: str
    api_url: str
    checklist_id: str
    pid: int = 0
    sim_url: str | None = None
    deployment_ids: dict[str, str] = field(default_factory=dict)


def _serve_in_child(
    kind: str, workdir: Path, server_settings: dict[str, str] | None, pipe: Connection
) -> None:
    serve = full_engine if kind == "full" else handoff_engine
    with serve(workdir, server_settings=server_settings) as bench:
        pipe.send(
            EngineEndpoints(
                url=bench.engine.url,
                api_url=bench.prefect.api_url,
                checklist_id=str(bench.checklist_id),
                pid=os.getpid(),
                sim_url=bench.sim.url if bench.sim is not None else None,
                deployment_ids={k: str(v) for k, v in bench.engine.deployment_ids.items()},
            )
        )
        pipe.recv()  # until the parent is done


@contextmanager
def child_process(
    target: Callable[..., None], args: tuple[Any, ...], *, name: str, startup_timeout: float
) -> Iterator[tuple[Any, Connection]]:
    """`target(*args, pipe)` in a spawned child: what it sends first, and the pipe.

    On leaving, the child is sent ``"stop"`` and joined (terminated if it will not end).
    """
    context = multiprocessing.get_context("spawn")
    ours, theirs = context.Pipe()
    child = context.Process(target=target, args=(*args, theirs), name=name)
    child.start()
    try:
        if not ours.poll(startup_timeout):
            raise RuntimeError(f"{name} did not start within {startup_timeout:g}s")
        yield ours.recv(), ours
    finally:
        with contextlib.suppress(BrokenPipeError):
            ours.send("stop")
        child.join(timeout=120)
        if child.is_alive():
            child.terminate()
            child.join(timeout=10)


@contextmanager
def engine_process(
    kind: Literal["full", "handoff"],
    workdir: Path,
    *,
    server_settings: Mapping[str, str] | None = None,
    startup_timeout: float = 180.0,
) -> Iterator[EngineEndpoints]:
    """Serve `full_engine` or `handoff_engine` from a child process.

    The load generator then has this process (and its interpreter lock) to itself, as
    Alertmanager would.
    """
    args = (kind, workdir, dict(server_settings or {}) or None)
    with child_process(
        _serve_in_child, args, name=f"bench-engine-{kind}", startup_timeout=startup_timeout
    ) as (endpoints, _):
        yield endpoints
