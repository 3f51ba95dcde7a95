"""Benchmark: alert handed off -> first task of its flow running; warm executor vs ``flow.serve()``.

Run: ``uv run --frozen python -m bench.alert_to_flow [--runs 30] [--serve-runs 8]``. Uses
PREFECT_API_URL when set, else starts a local server (SQLite) in a temporary directory. Runs are
sequential (one alert at a time), so the figures are latencies, not throughput.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID

from prefect import flow, task
from prefect.client.orchestration import PrefectClient, get_client
from prefect.exceptions import ObjectNotFound

from engine.deployments import DeploymentSpec, flows_by_deployment, register_deployments
from engine.dispatch.dispatcher import PrefectDispatcher
from engine.execution.executor import WarmExecutor
from engine.handoff import RunRequest
from engine.prefect_server import prefect_api

WARMUP_RUNS = 2
SERVE_DEPLOYMENT = "bench-alert-flow/bench-serve"


@task
def stamp(marker: str, stamp_dir: str) -> None:
    """The flow's first task: write down when it started running."""
    Path(stamp_dir, marker).write_text(repr(time.time()))


@flow(name="bench-alert-flow")
def bench_flow(marker: str, stamp_dir: str) -> None:
    """A flow whose first task stamps the time (in whatever process runs it)."""
    stamp(marker, stamp_dir)


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile (with 30 samples, p99 is the slowest one)."""
    ordered = sorted(values)
    return ordered[max(math.ceil(fraction * len(ordered)) - 1, 0)]


def wait_for_stamp(path: Path, within: float = 60.0) -> float:
    """The time the flow's first task wrote into ``path`` (blocking: run it in a thread)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if path.exists() and (text := path.read_text()):
            return float(text)
        time.sleep(0.002)
    raise TimeoutError(f"no stamp at {path} after {within}s")


async def wait_until_final(client: PrefectClient, flow_run_id: UUID, within: float = 60.0) -> None:
    """Wait until the run is final, so the next measurement starts from a quiet engine."""
    async with asyncio.timeout(within):
        while True:
            run = await client.read_flow_run(flow_run_id)
            if run.state is not None and run.state.is_final():
                return
            await asyncio.sleep(0.05)


def bench_request(marker: str, stamp_dir: Path) -> RunRequest:
    """A matched alert for the bench flow."""
    return RunRequest(
        runbook="bench",
        deployment="bench-alert-flow/bench-warm",
        parameters={"marker": marker, "stamp_dir": str(stamp_dir)},
        idempotency_key=f"bench:{marker}",
        alert_fingerprint=marker[:16],
        alert_starts_at=datetime.now(UTC),
        alertname="BenchAlert",
    )


async def measure_warm(runs: int, stamp_dir: Path) -> tuple[list[float], list[float]]:
    """Submit through the dispatcher with the warm executor; (to first task, submit call) in s."""
    ids = await register_deployments([DeploymentSpec(flow=bench_flow, name="bench-warm")])
    executor = WarmExecutor(
        flows_by_deployment([DeploymentSpec(flow=bench_flow, name="bench-warm")], ids)
    )
    await executor.start(poll=False)
    dispatcher = PrefectDispatcher(ids, launcher=executor)
    to_task: list[float] = []
    submit_calls: list[float] = []
    try:
        async with get_client() as client:
            for index in range(runs + WARMUP_RUNS):
                marker = uuid.uuid4().hex
                began = time.time()
                handle = await dispatcher.submit(bench_request(marker, stamp_dir))
                submitted = time.time()
                started = await asyncio.to_thread(wait_for_stamp, stamp_dir / marker)
                await wait_until_final(client, handle.flow_run_id)
                if index >= WARMUP_RUNS:
                    to_task.append(started - began)
                    submit_calls.append(submitted - began)
    finally:
        await dispatcher.aclose()
        await executor.stop()
    return to_task, submit_calls


def serve_main() -> None:
    """Entry point of the ``flow.serve()`` subprocess (Prefect's default way to run deployments)."""
    bench_flow.serve(name="bench-serve", print_starting_message=False)


async def measure_serve(runs: int, stamp_dir: Path, poll_seconds: int) -> list[float]:
    """Create runs of a ``flow.serve()`` deployment (as ``run_deployment`` does); to first task."""
    if runs <= 0:
        return []
    env = dict(os.environ, PREFECT_RUNNER_POLL_FREQUENCY=str(poll_seconds))
    server = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        "from bench.alert_to_flow import serve_main; serve_main()",
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
    )
    latencies: list[float] = []
    try:
        async with get_client() as client:
            deployment_id = await wait_for_deployment(client, SERVE_DEPLOYMENT)
            await asyncio.sleep(poll_seconds)  # let the runner settle into its poll cycle
            for _ in range(runs):
                marker = uuid.uuid4().hex
                began = time.time()
                run = await client.create_flow_run_from_deployment(
                    deployment_id, parameters={"marker": marker, "stamp_dir": str(stamp_dir)}
                )
                latencies.append(
                    await asyncio.to_thread(wait_for_stamp, stamp_dir / marker) - began
                )
                await wait_until_final(client, run.id)
    finally:
        server.terminate()
        await server.wait()
    return latencies


async def wait_for_deployment(client: PrefectClient, name: str, within: float = 60.0) -> UUID:
    """The id of deployment ``name`` once ``serve`` has registered it."""
    async with asyncio.timeout(within):
        while True:
            try:
                return (await client.read_deployment_by_name(name)).id
            except ObjectNotFound:
                await asyncio.sleep(0.5)


def summary(label: str, values: Sequence[float]) -> str:
    """One line: p50 and p99 (nearest rank) in seconds."""
    p50, p99 = statistics.median(values), percentile(values, 0.99)
    return f"{label:<44} n={len(values):<3} p50={p50:6.3f}s  p99={p99:6.3f}s"


async def run_benchmark(args: argparse.Namespace, stamp_dir: Path) -> None:
    """Measure and print both paths."""
    warm, submit_calls = await measure_warm(max(args.runs, 1), stamp_dir)
    served = await measure_serve(args.serve_runs, stamp_dir, args.serve_poll)
    print(summary("warm executor: submit -> first task running", warm))
    print(summary("warm executor: submit call (receiver waits)", submit_calls))
    if served:
        print(summary(f"flow.serve() (poll {args.serve_poll}s): create -> first task", served))
        ratio = statistics.median(served) / statistics.median(warm)
        print(f"median ratio serve / warm executor: {ratio:.1f}x")


def main(argv: Sequence[str] | None = None) -> None:
    """Parse arguments, make sure a Prefect API is there, run the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=30, help="warm-executor runs (default 30)")
    parser.add_argument(
        "--serve-runs", type=int, default=8, help="flow.serve() runs; 0 skips (default 8)"
    )
    parser.add_argument(
        "--serve-poll", type=int, default=10, help="serve's poll seconds (default 10)"
    )
    args = parser.parse_args(argv)
    with ExitStack() as stack:
        state_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-")))
        stack.enter_context(prefect_api(state_dir, ui=False))
        stamp_dir = state_dir / "stamps"
        stamp_dir.mkdir()
        asyncio.run(run_benchmark(args, stamp_dir))


if __name__ == "__main__":
    from bench.alert_to_flow import main as imported_main  # flows keep a module path, not __main__

    imported_main()
