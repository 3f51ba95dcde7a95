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
import random
import tempfile
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID

import httpx
import orjson
from prefect.client.orchestration import PrefectClient
from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterId

from bench.harness import (
    EngineEndpoints,
    describe_ms,
    engine_process,
    grouped_notification,
    service_down_labels,
)
from bench.postgres import PostgresUnavailableError, running_postgres
from tests.e2e.served_engine import BEARER

MAX_ATTEMPTS = 20


@dataclass(frozen=True)
class Storm:
    """The notifications to send and how many distinct alerts they carry."""

    bodies: list[bytes]
    alerts: int
    distinct: int


def build_storm(*, posts: int, per_post: int, repeat: float, seed: int = 7) -> Storm:
    """``posts`` notifications of ``per_post`` alerts; after the first, ``repeat`` of each
    notification's alerts are drawn from alerts sent earlier."""
    rng = random.Random(seed)
    starts_at = datetime.now(UTC)
    sent: list[dict[str, str]] = []
    bodies: list[bytes] = []
    repeats_total = round(posts * per_post * repeat)
    for post in range(posts):
        # Spread the repeats over posts 1..n-1 so the total is exact.
        repeats = (
            0
            if post == 0
            else (repeats_total * post // (posts - 1) - repeats_total * (post - 1) // (posts - 1))
        )
        alerts = rng.sample(sent, min(repeats, len(sent)))
        fresh = [
            service_down_labels("storm", f"svc-{len(sent) + i}")
            for i in range(per_post - len(alerts))
        ]
        sent += fresh
        alerts += fresh
        rng.shuffle(alerts)
        body = grouped_notification(alerts, starts_at=starts_at, group=f"storm-{post}")
        bodies.append(orjson.dumps(body))
    return Storm(bodies=bodies, alerts=posts * per_post, distinct=len(sent))


@dataclass
class Delivery:
    """What sending the storm took."""

    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int | str] = field(default_factory=Counter)
    retries: int = 0
    gave_up: int = 0


async def deliver(client: httpx.AsyncClient, url: str, body: bytes, delivery: Delivery) -> None:
    """POST one notification until it is accepted (Alertmanager's retry, with back-off), or
    give up after ``MAX_ATTEMPTS`` (Alertmanager would go on trying)."""
    headers = {**BEARER, "Content-Type": "application/json"}
    for attempt in range(MAX_ATTEMPTS):
        began = time.perf_counter()
        try:
            response = await client.post(url, content=body, headers=headers)
            delivery.statuses[response.status_code] += 1
            accepted = response.status_code == 200
        except httpx.HTTPError as error:
            delivery.statuses[type(error).__name__] += 1
            accepted = False
        delivery.latencies.append(time.perf_counter() - began)
        if accepted:
            return
        delivery.retries += 1
        await asyncio.sleep(min(0.5 * 1.5**attempt, 10.0))
    delivery.gave_up += 1


async def storm(endpoints: EngineEndpoints, plan: Storm, *, concurrency: int) -> None:
    """Send the storm and print the counts and timings."""
    url = f"{endpoints.url}/alertmanager"
    delivery = Delivery()
    slots = asyncio.Semaphore(concurrency)

    async def one(body: bytes) -> None:
        async with slots:
            await deliver(client, url, body, delivery)

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
