"""Benchmark: an alert storm on PostgreSQL, served by one engine replica and then by two.

Run: ``uv run --frozen python -m bench.ha_storm [--posts 50] [--per-post 10] [--repeat 0.8]
[--concurrency 4]``.

Prefect runs on a throwaway PostgreSQL; each replica is an engine process of its own
(`tests.e2e.engine_replica`: receiver, dispatcher, warm executor, sweeper) over a simulated
cluster, as the cluster Deployment runs them. The storm (``--posts`` grouped notifications of
``--per-post`` ServiceDown alerts, ``--repeat`` of them repeats of earlier alerts, every third
notification delivered once more to the next replica) is sent ``--concurrency`` notifications at
a time, spread over the replicas. Each configuration gets alerts of its own and is measured
until every run it made has ended. Printed: webhook acknowledgement p50/p99, runs created per
second (until the last notification was acknowledged) and executed per second (until the last
run ended), whether runs = distinct alerts, and each replica's resident memory idle and at its
peak under the storm.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import threading
import time
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID

from prefect.client.orchestration import PrefectClient, get_client
from prefect.client.schemas.filters import (
    DeploymentFilter,
    DeploymentFilterId,
    FlowRunFilter,
    FlowRunFilterExpectedStartTime,
    FlowRunFilterState,
    FlowRunFilterStateType,
)
from prefect.client.schemas.objects import StateType

from bench.harness import CHECKLIST, describe_ms, percentile
from simcluster.server import SimServer
from tests.e2e.engine_replica import EngineReplica
from tests.e2e.postgres import PostgresUnavailableError, running_postgres
from tests.e2e.prefect_environment import local_prefect
from tests.e2e.storm import build_storm, send_over_replicas

MEMORY_TARGET_MB = 350
UNFINISHED = [StateType.SCHEDULED, StateType.PENDING, StateType.RUNNING]


def resident_mb(pid: int) -> float:
    """A process's resident memory (VmRSS), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class PeakMemory:
    """Samples the replicas' resident memory every half second while in its ``with`` block."""

    def __init__(self, pids: Sequence[int]) -> None:
        self.peaks = dict.fromkeys(pids, 0.0)
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._done.set()
        self._thread.join(timeout=5)

    def _sample(self) -> None:
        while not self._done.wait(0.5):
            for pid in self.peaks:
                self.peaks[pid] = max(self.peaks[pid], resident_mb(pid))


@dataclass(frozen=True)
class Outcome:
    """One configuration's figures."""

    replicas: int
    ack_p50: float
    ack_p99: float
    created_per_second: float
    executed_per_second: float
    exact: bool
    idle_mb: list[float]
    peak_mb: list[float]


async def storm_on(
    replicas: Sequence[EngineReplica], *, args: argparse.Namespace, label: str
) -> Outcome:
    """Send a storm of its own over ``replicas`` and measure it until its runs have ended."""
    storm = build_storm(
        posts=args.posts, per_post=args.per_post, repeat=args.repeat, namespace=label
    )
    idle = [resident_mb(replica.pid) for replica in replicas]
    webhooks = [f"{replica.url}/alertmanager" for replica in replicas]
    async with get_client() as client:
        checklist = (await client.read_deployment_by_name(CHECKLIST)).id
        since = datetime.now(UTC) - timedelta(seconds=1)
        began = time.perf_counter()
        with PeakMemory([replica.pid for replica in replicas]) as memory:
            delivery = await send_over_replicas(
                storm, webhooks, redeliver_every=3, concurrency=args.concurrency
            )
            acknowledged = time.perf_counter() - began
            deadline = time.monotonic() + args.max_wait
            while await count_runs(client, checklist, since=since, unfinished=True):
                if time.monotonic() > deadline:
                    print(f"  runs still unfinished after {args.max_wait:g}s")
                    break
                await asyncio.sleep(0.5)
            executed = time.perf_counter() - began
        runs = await count_runs(client, checklist, since=since, unfinished=False)
    print(f"\n--- {len(replicas)} replica(s) ---")
    print(
        f"  {storm.alerts} alerts in {len(storm.bodies)} notifications, {storm.distinct} distinct"
    )
    print(f"  answers: {dict(delivery.statuses)}; retries {delivery.retries}")
    print("  " + describe_ms("webhook acknowledgement (10 alerts)", delivery.latencies))
    print(
        f"  runs {runs} for {storm.distinct} distinct alerts "
        f"({'exact' if runs == storm.distinct else 'MISMATCH'}); created in {acknowledged:.1f} s "
        f"({runs / acknowledged:.1f}/s), all ended after {executed:.1f} s ({runs / executed:.2f}/s)"
    )
    for replica, before in zip(replicas, idle, strict=True):
        print(
            f"  {replica.name}: resident {before:.0f} MB idle, "
            f"{memory.peaks[replica.pid]:.0f} MB peak under the storm (target {MEMORY_TARGET_MB})"
        )
    return Outcome(
        replicas=len(replicas),
        ack_p50=percentile(delivery.latencies, 0.5),
        ack_p99=percentile(delivery.latencies, 0.99),
        created_per_second=runs / acknowledged,
        executed_per_second=runs / executed,
        exact=runs == storm.distinct,
        idle_mb=idle,
        peak_mb=[memory.peaks[replica.pid] for replica in replicas],
    )


async def count_runs(
    client: PrefectClient, checklist: UUID, *, since: datetime, unfinished: bool
) -> int:
    """The checklist runs created since ``since`` (this storm's: the previous one has ended)."""
    runs = FlowRunFilter(expected_start_time=FlowRunFilterExpectedStartTime(after_=since))
    if unfinished:
        runs.state = FlowRunFilterState(type=FlowRunFilterStateType(any_=UNFINISHED))
    return await client.count_flow_runs(
        deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[checklist])),
        flow_run_filter=runs,
    )


def main(argv: Sequence[str] | None = None) -> None:
    """Serve Prefect on PostgreSQL and one, then two, replicas; send a storm to each set."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=50)
    parser.add_argument("--per-post", type=int, default=10)
    parser.add_argument("--repeat", type=float, default=0.8)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--max-wait", type=float, default=600.0)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-ha-") as folder, ExitStack() as parts:
        workdir = Path(folder)
        try:
            database = parts.enter_context(running_postgres())
        except PostgresUnavailableError as error:
            print(f"skipped: {error}")
            return
        prefect = parts.enter_context(
            local_prefect(
                workdir / "prefect",
                server_settings={"PREFECT_API_DATABASE_CONNECTION_URL": database},
            )
        )
        sim = parts.enter_context(SimServer())
        kubeconfig = sim.write_kubeconfig(workdir / "engine.kubeconfig", user="engine")
        shared = {
            "PREFECT_API_URL": prefect.api_url,
            "PREFECT_LOCAL_STORAGE_PATH": str(workdir / "results"),
        }
        first, second = (
            EngineReplica(
                name,
                kubeconfig=kubeconfig,
                environment={**shared, "PREFECT_HOME": str(workdir / name)},
                log_dir=workdir,
            )
            for name in ("replica-a", "replica-b")
        )
        first.start()
        parts.callback(first.stop)
        time.sleep(5)  # idle: imports settled, first polls made
        alone = asyncio.run(storm_on([first], args=args, label="storm-one"))
        second.start()
        parts.callback(second.stop)
        time.sleep(5)
        pair = asyncio.run(storm_on([first, second], args=args, label="storm-two"))
    print("\n--- two replicas against one ---")
    print(
        f"  runs created/s x{pair.created_per_second / alone.created_per_second:.2f}, "
        f"executed/s x{pair.executed_per_second / alone.executed_per_second:.2f}; "
        f"acknowledgement p50 x{pair.ack_p50 / alone.ack_p50:.2f}, "
        f"p99 x{pair.ack_p99 / alone.ack_p99:.2f}"
    )
    peak = max(alone.peak_mb + pair.peak_mb)
    print(
        f"  peak resident memory of a replica {peak:.0f} MB: "
        f"{'within' if peak <= MEMORY_TARGET_MB else 'OVER'} the {MEMORY_TARGET_MB} MB target"
    )


if __name__ == "__main__":
    main()
