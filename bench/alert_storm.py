"""Benchmark: an alert storm; every distinct alert gets exactly one run, on SQLite and PostgreSQL.

Run: ``uv run --frozen python -m bench.alert_storm [--posts 100] [--per-post 50]
[--repeat 0.2] [--concurrency 4] [--databases sqlite postgres]``.

5,000 alerts in 100 grouped notifications of 50, a fifth of them repeats of alerts already sent
in earlier notifications (as Alertmanager re-sends a group's alerts), posted to the receiver
``--concurrency`` at a time. A notification answered 503 is sent again after a back-off, as
Alertmanager retries. Each distinct alert is a ServiceDown for a Service of its own, so no
cooldown holds any back. The receiver runs without the warm executor (``handoff_engine``): runs
are created and left Scheduled, so the figures are the handoff, not flow execution. At the end,
Prefect is asked how many runs the deployment has: it must equal the distinct alerts.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from uuid import UUID

import httpx
from prefect.client.orchestration import PrefectClient
from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterId

from bench.harness import EngineEndpoints, describe_ms, engine_process
from bench.postgres import PostgresUnavailableError, running_postgres
from tests.e2e.storm import Delivery, Storm, build_storm, deliver

MAX_ATTEMPTS = 20


async def storm(endpoints: EngineEndpoints, plan: Storm, *, concurrency: int) -> None:
    """Send the storm and print the counts and timings."""
    url = f"{endpoints.url}/alertmanager"
    delivery = Delivery()
    slots = asyncio.Semaphore(concurrency)

    async def one(body: bytes) -> None:
        async with slots:
            await deliver(client, url, body, delivery, attempts=MAX_ATTEMPTS)

    async with httpx.AsyncClient(timeout=60) as client:
        began = time.perf_counter()
        await asyncio.gather(*(one(body) for body in plan.bodies))
        took = time.perf_counter() - began
    async with PrefectClient(endpoints.api_url) as prefect:
        runs = await prefect.count_flow_runs(
            deployment_filter=DeploymentFilter(
                id=DeploymentFilterId(any_=[UUID(endpoints.checklist_id)])
            )
        )
    codes = ", ".join(f"{code}: {n}" for code, n in sorted(delivery.statuses.items(), key=str))
    print(
        f"  alerts sent {plan.alerts} in {len(plan.bodies)} notifications; "
        f"retries {delivery.retries}; given up after {MAX_ATTEMPTS} attempts: {delivery.gave_up}"
    )
    print(f"  answers: {codes}")
    print(
        f"  distinct alerts {plan.distinct}, runs created {runs}: "
        f"{'MATCH' if runs == plan.distinct else 'MISMATCH'}"
    )
    print(f"  total {took:.1f} s, {plan.alerts / took:.0f} alerts/s, {runs / took:.0f} runs/s")
    print(
        "  "
        + describe_ms(
            f"notification round trip ({plan.alerts // len(plan.bodies)} alerts)",
            delivery.latencies,
        )
    )


def run_on(
    database: str, plan: Storm, *, concurrency: int, settings: Mapping[str, str] | None
) -> None:
    """Serve the handoff engine on a fresh Prefect server and send the storm."""
    with (
        tempfile.TemporaryDirectory(prefix="bench-storm-") as workdir,
        engine_process("handoff", Path(workdir), server_settings=settings) as endpoints,
    ):
        print(f"\n--- {database} ---", flush=True)
        asyncio.run(storm(endpoints, plan, concurrency=concurrency))


def main(argv: Sequence[str] | None = None) -> None:
    """Parse arguments and run the storm on each database."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=100)
    parser.add_argument("--per-post", type=int, default=50)
    parser.add_argument("--repeat", type=float, default=0.2)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--databases", nargs="+", default=["sqlite", "postgres"])
    args = parser.parse_args(argv)
    plan = build_storm(posts=args.posts, per_post=args.per_post, repeat=args.repeat)
    print(
        f"storm: {plan.alerts} alerts, {len(plan.bodies)} notifications, {plan.distinct} distinct; "
        f"{args.concurrency} notifications in flight; runs left Scheduled (no executor)"
    )
    for database in args.databases:
        if database == "sqlite":
            run_on("SQLite", plan, concurrency=args.concurrency, settings=None)
            continue
        try:
            with running_postgres() as url:
                settings = {"PREFECT_API_DATABASE_CONNECTION_URL": url}
                run_on("PostgreSQL 15", plan, concurrency=args.concurrency, settings=settings)
        except PostgresUnavailableError as error:
            print(f"\n--- PostgreSQL: skipped: {error} ---")


if __name__ == "__main__":
    main()
