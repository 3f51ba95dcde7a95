"""Benchmark: alert -> first task of its checklist run running, via Alertmanager and direct.

Run: ``uv run --frozen python -m bench.alert_to_first_task [--runs 20] [--group-wait 1s]``.

The full engine (``assemble_engine``, warm executor) serves on 127.0.0.1 with a real Prefect
server (SQLite) and a simulated cluster; a real Alertmanager posts to it. One alert at a time
(a ServiceDown for a healthy Service of its own, so each is a new Alertmanager group and a new
cooldown target), waiting for the run to end before the next, so the figures are latencies:

- via Alertmanager: from ``POST /api/v2/alerts`` to the first task run's start, as Prefect
  records it; Alertmanager holds a new group for ``group_wait`` first, so the figures are shown
  raw and with group_wait subtracted (targets: p50 <= 0.75 s, p99 <= 2 s);
- direct: from the webhook POST to the receiver to the same point.

Also shown: POST -> run created (the handoff) and POST -> flow run Running, from Prefect's own
timestamps.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID

import httpx
from prefect.client.orchestration import PrefectClient, get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

from bench.harness import BenchEngine, describe_ms, full_engine, service_down_labels
from engine.commands.fire import build_notification
from integrations.alertmanager import fingerprint_labels
from tests.e2e.alertmanager_process import Alertmanager, find_alertmanager, running_alertmanager
from tests.e2e.flow_runs import wait_for_runs, wait_until_final
from tests.e2e.prometheus_alerts import prometheus_alert
from tests.e2e.served_engine import BEARER, TOKEN

WARMUP = 2
NAMESPACE = "shop"


@dataclass
class Timings:
    """Seconds from the POST to each point, per alert."""

    created: list[float] = field(default_factory=list)
    running: list[float] = field(default_factory=list)
    first_task: list[float] = field(default_factory=list)

    def print(self, title: str, *, subtract: float = 0.0) -> None:
        """Print the three figures, less ``subtract`` seconds each."""
        print(f"\n{title}")
        for name, values in (
            ("POST -> run created", self.created),
            ("POST -> flow run Running", self.running),
            ("POST -> first task running", self.first_task),
        ):
            print("  " + describe_ms(name, [value - subtract for value in values]))


async def first_task_start(client: PrefectClient, flow_run_id: UUID, within: float = 30) -> float:
    """The epoch time the run's first task run started (task states arrive as events: wait)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        task_runs = await client.read_task_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id]))
        )
        starts = [run.start_time for run in task_runs if run.start_time is not None]
        if starts:
            return min(starts).timestamp()
        await asyncio.sleep(0.1)
    raise TimeoutError(f"no task run of {flow_run_id} started within {within:g}s")


async def measure_one(
    bench: BenchEngine, labels: dict[str, str], post: Callable[[], None], timings: Timings
) -> None:
    """Post one alert (``post``), wait for its run to end, and record its timestamps."""
    async with get_client() as client:
        began = time.time()
        await asyncio.to_thread(post)
        found = await wait_for_runs(
            client, bench.checklist_id, [fingerprint_labels(labels)], within=60
        )
        [run] = found[fingerprint_labels(labels)]
        [final] = await wait_until_final(client, [run.id], within=120)
        first_task = await first_task_start(client, run.id)
    if final.created is not None:
        timings.created.append(final.created.timestamp() - began)
    if final.start_time is not None:
        timings.running.append(final.start_time.timestamp() - began)
    timings.first_task.append(first_task - began)


def post_direct(engine_url: str, labels: dict[str, str]) -> Callable[[], None]:
    """A webhook POST of one firing alert straight to the receiver."""

    def post() -> None:
        now = datetime.now(UTC)
        body = build_notification(
            alertname=labels["alertname"], labels=labels, resolve=False, starts_at=now, ends_at=now
        )
        httpx.post(f"{engine_url}/alertmanager", json=body, headers=BEARER, timeout=30)

    return post


def post_to_alertmanager(alertmanager: Alertmanager, labels: dict[str, str]) -> Callable[[], None]:
    """``POST /api/v2/alerts`` of one firing alert to Alertmanager, as Prometheus does."""

    def post() -> None:
        alertmanager.post_alerts([prometheus_alert(labels, starts_at=datetime.now(UTC))])

    return post


async def measure(
    bench: BenchEngine, alertmanager: Alertmanager, *, runs: int
) -> dict[str, Timings]:
    """Time ``runs`` alerts each way (after warm-up alerts)."""
    results = {"alertmanager": Timings(), "direct": Timings()}
    for way, timings in results.items():
        names = [f"{way}-{index}" for index in range(WARMUP + runs)]
        bench.add_services(NAMESPACE, names)
        for index, name in enumerate(names):
            labels = service_down_labels(NAMESPACE, name)
            post = (
                post_to_alertmanager(alertmanager, labels)
                if way == "alertmanager"
                else post_direct(bench.engine.url, labels)
            )
            await measure_one(bench, labels, post, timings if index >= WARMUP else Timings())
    return results


def seconds(duration: str) -> float:
    """An Alertmanager duration of seconds (``"1s"``, ``"0s"``) as a float."""
    return float(duration.removesuffix("s"))


def main(argv: Sequence[str] | None = None) -> None:
    """Parse arguments, start Prefect, the cluster, the engine and Alertmanager, and measure."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--group-wait", default="1s", help="Alertmanager's group_wait, in s")
    args = parser.parse_args(argv)
    binary = find_alertmanager()
    if binary is None:
        raise SystemExit("the Alertmanager binary (prometheus-alertmanager) is not installed")
    route = {"group_wait": args.group_wait, "group_interval": "1s", "repeat_interval": "1h"}
    with tempfile.TemporaryDirectory(prefix="bench-first-task-") as workdir:
        (Path(workdir) / "alertmanager").mkdir()
        with (
            full_engine(Path(workdir)) as bench,
            running_alertmanager(
                Path(workdir) / "alertmanager",
                webhook_url=bench.engine.webhook_url,
                token=TOKEN,
                binary=binary,
                route=route,
            ) as alertmanager,
        ):
            results = asyncio.run(measure(bench, alertmanager, runs=args.runs))
    wait = seconds(args.group_wait)
    print(f"\n{args.runs} alerts each way (after {WARMUP} warm-up), Prefect on SQLite")
    results["alertmanager"].print(f"via Alertmanager, raw (group_wait {args.group_wait})")
    results["alertmanager"].print(
        f"via Alertmanager, group_wait ({args.group_wait}) subtracted", subtract=wait
    )
    results["direct"].print("direct POST to the receiver")
    print("\ntargets: alert -> first task p50 <= 750 ms, p99 <= 2000 ms")


if __name__ == "__main__":
    main()
