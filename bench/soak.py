"""Benchmark: a day of running in miniature: growth per hour of memory, database, fds and threads.

Run: ``uv run --frozen python -m bench.soak [--minutes 30] [--alerts-per-minute 30]
[--warm-up 3]``.

The whole engine (``full_engine``: receiver, dispatcher, warm executor, sweeper) serves in a
child process over a Prefect server on SQLite and the simulated cluster. Every minute this
process sends a mixed load, as production would:

- ``--alerts-per-minute`` ServiceDown alerts on healthy Services (each a run that finds nothing
  to do), most resolved a little later;
- one alert on a Service whose selector is broken, approved through Prefect's resume API (a run
  that asks, waits, changes and verifies), then the fault healed;
- a run of each preventive flow (health check, service report), as their schedules would start;
- every third minute, the API server answers 20% 429 and 10% 500 for 20 s (``api-flaky``).

Each minute it samples the engine's RSS, open file descriptors and threads, the Prefect
server's RSS, and the size of Prefect's database (with its WAL), then prints the samples and,
after ``--warm-up`` minutes, each one's growth per hour (least-squares slope) and the database's
growth per run created.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import random
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
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
    EngineEndpoints,
    engine_process,
    grouped_notification,
    prefect_server_pid,
    process_status,
)
from tests.e2e.served_engine import BEARER

BROKEN = "soak-broken"
PREVENTIVE = ("cluster-health-check/cluster-health-check", "service-report/service-report")
HEADERS = {**BEARER, "Content-Type": "application/json"}


@dataclass(frozen=True)
class Sample:
    """One minute's measurements."""

    minute: float
    engine_rss_mb: float
    prefect_rss_mb: float
    database_mb: float
    open_fds: int
    threads: int
    runs: int


def _open_fds(pid: int) -> int:
    with contextlib.suppress(OSError):
        return len(list(Path(f"/proc/{pid}/fd").iterdir()))
    return -1


def _database_mb(workdir: Path) -> float:
    files = [p for p in workdir.rglob("*.db*") if p.is_file()]
    return sum(p.stat().st_size for p in files) / 2**20


def slope_per_hour(xs: Sequence[float], ys: Sequence[float]) -> float:
    """Least-squares slope of ``ys`` over ``xs`` (minutes), per hour; NaN with < 2 points."""
    if len(xs) < 2:
        return float("nan")
    mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
    spread = sum((x - mean_x) ** 2 for x in xs)
    if spread == 0:
        return float("nan")
    return 60 * sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / spread


class Load:
    """Sends one minute's mixed load to the engine."""

    def __init__(self, endpoints: EngineEndpoints, http: httpx.AsyncClient) -> None:
        """Load the engine at `endpoints` through `http`."""
        self._endpoints = endpoints
        self._http = http
        self._sent = 0
        self._rng = random.Random(11)

    async def alerts(self, count: int, *, minute: int) -> None:
        """``count`` ServiceDown alerts on healthy Services, two thirds resolved 10 s later."""
        starts_at = datetime.now(UTC)
        names = [f"svc-{minute}-{n}" for n in range(count)]
        for name in names:
            await self._post(
                [{"alertname": "ServiceDown", "namespace": "shop", "service": name}],
                starts_at=starts_at,
                status="firing",
            )
        await asyncio.sleep(10)
        for name in names[: 2 * count // 3]:
            await self._post(
                [{"alertname": "ServiceDown", "namespace": "shop", "service": name}],
                starts_at=starts_at,
                status="resolved",
            )

    async def approval(self, prefect: PrefectClient, *, minute: int) -> None:
        """Break a Service's selector, fire its alert, approve the fix, heal the fault."""
        sim = self._endpoints.sim_url
        if sim is None:
            return
        fault = {"namespace": "shop", "service": "web", "selector": {"app": f"web-{minute}"}}
        await self._http.post(f"{sim}/simcluster/faults/selector-mismatch", json=fault)
        labels = {"alertname": "ServiceDown", "namespace": "shop", "service": "web"}
        await self._post([labels], starts_at=datetime.now(UTC), status="firing")
        checklist = UUID(self._endpoints.checklist_id)
        paused = FlowRunFilter(
            state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.PAUSED]))
        )
        deployment = DeploymentFilter(id=DeploymentFilterId(any_=[checklist]))
        for _ in range(60):
            runs = await prefect.read_flow_runs(
                flow_run_filter=paused, deployment_filter=deployment, limit=10
            )
            for run in runs:
                answer = {"approve": True, "by": "soak", "reason": "benchmark"}
                await prefect.resume_flow_run(run.id, run_input=answer)
            if runs:
                break
            await asyncio.sleep(1)
        await asyncio.sleep(15)
        await self._http.delete(f"{sim}/simcluster/faults/selector-mismatch")

    async def preventive(self, prefect: PrefectClient) -> None:
        """Start a run of each preventive flow, as its schedule would."""
        for name in PREVENTIVE:
            deployment = self._endpoints.deployment_ids.get(name)
            if deployment is not None:
                await prefect.create_flow_run_from_deployment(UUID(deployment))

    async def flaky_api(self) -> None:
        """The API server answers 20% 429 and 10% 500 for 20 s."""
        sim = self._endpoints.sim_url
        if sim is None:
            return
        body = {"throttle_rate": 0.2, "error_rate": 0.1}
        await self._http.post(f"{sim}/simcluster/faults/api-flaky", json=body)
        await asyncio.sleep(20)
        await self._http.delete(f"{sim}/simcluster/faults/api-flaky")

    async def _post(
        self, alerts: list[dict[str, str]], *, starts_at: datetime, status: str
    ) -> None:
        body = grouped_notification(alerts, starts_at=starts_at, group=f"soak-{self._sent}")
        for alert in body["alerts"]:
            alert["status"] = status
            if status == "resolved":
                alert["endsAt"] = datetime.now(UTC).isoformat()
        body["status"] = status
        self._sent += 1
        for _ in range(20):  # as Alertmanager retries a 5xx
            answer = await self._http.post(
                f"{self._endpoints.url}/alertmanager", content=orjson.dumps(body), headers=HEADERS
            )
            if answer.status_code < 500:
                return
            await asyncio.sleep(2)


async def soak(endpoints: EngineEndpoints, workdir: Path, args: argparse.Namespace) -> None:
    """Load the engine for ``--minutes``, sampling each minute; print samples and growth."""
    samples: list[Sample] = []
    began = time.monotonic()
    async with httpx.AsyncClient(timeout=30) as http, PrefectClient(endpoints.api_url) as prefect:
        load = Load(endpoints, http)
        # By the clock, not by rounds: a round whose approval waits runs past its minute.
        for minute in itertools.count():
            if time.monotonic() - began >= args.minutes * 60:
                break
            started = time.monotonic()
            work = [
                load.alerts(args.alerts_per_minute, minute=minute),
                load.approval(prefect, minute=minute),
                load.preventive(prefect),
            ]
            if minute % 3 == 2:
                work.append(load.flaky_api())
            await asyncio.gather(*work)
            await asyncio.sleep(max(0.0, 60 - (time.monotonic() - started)))
            prefect_pid = prefect_server_pid(endpoints.api_url)
            sample = Sample(
                minute=(time.monotonic() - began) / 60,
                engine_rss_mb=process_status(endpoints.pid, "VmRSS") / 1024,
                prefect_rss_mb=process_status(prefect_pid, "VmRSS") / 1024,
                database_mb=_database_mb(workdir),
                open_fds=_open_fds(endpoints.pid),
                threads=int(process_status(endpoints.pid, "Threads")),
                runs=await prefect.count_flow_runs(),
            )
            samples.append(sample)
            print(
                f"minute {sample.minute:5.1f}: engine {sample.engine_rss_mb:6.0f} MB, "
                f"Prefect {sample.prefect_rss_mb:6.0f} MB, database {sample.database_mb:7.1f} MB, "
                f"fds {sample.open_fds:4d}, threads {sample.threads:3d}, runs {sample.runs:5d}",
                flush=True,
            )
    _report(samples, warm_up=args.warm_up)


def _report(samples: Sequence[Sample], *, warm_up: float) -> None:
    steady = [s for s in samples if s.minute >= warm_up]
    if len(steady) < 2:
        print("too few samples after the warm-up to tell growth; run longer (--minutes)")
        return
    xs = [s.minute for s in steady]
    print(f"\ngrowth per hour after {warm_up:g} min of warm-up ({len(steady)} samples):")
    for name, unit in (
        ("engine_rss_mb", "MB"),
        ("prefect_rss_mb", "MB"),
        ("database_mb", "MB"),
        ("open_fds", "fds"),
        ("threads", "threads"),
        ("runs", "runs"),
    ):
        ys = [float(getattr(s, name)) for s in steady]
        print(f"  {name:<16} {slope_per_hour(xs, ys):+10.1f} {unit}/h  (last {ys[-1]:.1f})")
    runs = steady[-1].runs - steady[0].runs
    grown = steady[-1].database_mb - steady[0].database_mb
    if runs:
        print(f"  database per 1,000 runs: {grown / runs * 1000:.1f} MB")


def main(argv: Sequence[str] | None = None) -> None:
    """Parse arguments, serve the engine, soak it."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--minutes", type=int, default=30)
    parser.add_argument("--alerts-per-minute", type=int, default=30)
    parser.add_argument("--warm-up", type=float, default=3.0)
    args = parser.parse_args(argv)
    print(
        f"soak: {args.minutes} min; each minute {args.alerts_per_minute} alerts (2/3 resolved), "
        "one approval, the preventive flows; api-flaky every third minute; SQLite"
    )
    with (
        tempfile.TemporaryDirectory(prefix="bench-soak-") as workdir,
        engine_process("full", Path(workdir)) as endpoints,
    ):
        asyncio.run(soak(endpoints, Path(workdir), args))


if __name__ == "__main__":
    main()
