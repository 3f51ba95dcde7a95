"""Benchmark: webhook acknowledgement latency at fixed request rates (open loop).

Run: ``uv run --frozen python -m bench.webhook_ack [--seconds 10] [--rates 50 200]
[--engine full|handoff]``.

The engine runs in a child process with a real Prefect server (SQLite) behind it: ``full`` is
``assemble_engine`` (its warm executor runs the created checklist runs against a simulated
cluster), ``handoff`` the receiver and dispatcher alone (runs stay Scheduled). Requests are sent
on a fixed schedule from this process by `bench.webhook_sender` (kept-alive HTTP/1.1 at about
Alertmanager's cost per request, so the figures are the engine's, not this process's), each a
notification with one ServiceDown alert for a Service of its own (its own cooldown target), for
``--seconds`` at each rate:

1. redeliveries: up to 200 alerts are first sent one at a time (so their runs exist), then sent
   again at the rate, as Alertmanager re-sends a group's alerts (every group_interval while the
   group changes, at repeat_interval, and to a receiver it finds slow): each finds its run;
2. new alerts: every request needs a run created and persisted before its answer;
3. where the time goes: the receiver's own handoff histogram (time inside Prefect calls per
   alert), the Prefect server's CPU time over the phase (one process: past one core's worth, the
   requests queue), and Prefect's ``create_flow_run`` called directly at the same rate.

Each phase's line ends with whether p99 meets its target (#10): redeliveries p99 <= 25 ms; new
alerts, which must each be persisted as a run before the answer, p99 <= 1 s at 50/s with runs
executing (``--engine full``).
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx
import orjson
from prometheus_client.parser import text_string_to_metric_families

from bench.harness import (
    EngineEndpoints,
    cpu_seconds,
    describe_ms,
    engine_process,
    grouped_notification,
    open_loop,
    percentile,
    prefect_server_pid,
    service_down_labels,
)
from bench.webhook_sender import SendError, WebhookSender
from tests.e2e.served_engine import BEARER

HANDOFF = "runbooks_receiver_handoff_seconds"
REDELIVERY_TARGET = 0.025
NEW_ALERT_TARGET = 1.0


@dataclass
class Phase:
    """One open-loop phase: latencies and the answers' status codes (or transport errors)."""

    name: str
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int | str] = field(default_factory=Counter)

    def report(self) -> str:
        """The phase's figures, one line, plus the status codes seen."""
        codes = ", ".join(f"{code}: {n}" for code, n in sorted(self.statuses.items(), key=str))
        return f"{describe_ms(self.name, self.latencies)}  [{codes}]"


async def timed_post(sender: WebhookSender, body: bytes, phase: Phase) -> int | str:
    """POST ``body``; its status code or error name (latency recorded in ``phase``)."""
    began = time.perf_counter()
    status: int | str
    try:
        status = (await sender.post(body)).status
    except SendError as error:
        status = error.reason
    phase.statuses[status] += 1
    phase.latencies.append(time.perf_counter() - began)
    return status


async def handoff_totals(client: httpx.AsyncClient, url: str) -> tuple[float, float]:
    """The receiver's submit handoff histogram: (sum of seconds, count) so far; NaN when the
    overloaded engine does not answer."""
    try:
        text = (await client.get(f"{url}/metrics", timeout=120)).text
    except httpx.HTTPError:
        return float("nan"), float("nan")
    total = count = 0.0
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.labels.get("operation") != "submit":
                continue
            if sample.name == f"{HANDOFF}_sum":
                total = sample.value
            elif sample.name == f"{HANDOFF}_count":
                count = sample.value
    return total, count


async def webhook_phase(
    client: httpx.AsyncClient,
    endpoints: EngineEndpoints,
    *,
    name: str,
    bodies: Sequence[bytes],
    rate: float,
    target: float,
) -> None:
    """Send the bodies to the webhook at ``rate``; print the phase's line and where time went."""
    phase = Phase(name)
    server = prefect_server_pid(endpoints.api_url)
    before = await handoff_totals(client, endpoints.url)
    cpu_before, began = cpu_seconds(server), time.monotonic()
    async with WebhookSender(f"{endpoints.url}/alertmanager", headers=BEARER) as sender:
        await open_loop(
            lambda i: timed_post(sender, bodies[i], phase), rate=rate, count=len(bodies)
        )
    busy = (cpu_seconds(server) - cpu_before) / (time.monotonic() - began)
    after = await handoff_totals(client, endpoints.url)
    calls = after[1] - before[1]
    mean = (after[0] - before[0]) / calls * 1000 if calls else float("nan")
    verdict = "met" if percentile(phase.latencies, 0.99) <= target else "MISSED"
    print(
        f"{phase.report()}  p99 target ({target * 1000:g} ms) {verdict}\n"
        f"{'':<44} receiver inside Prefect calls: mean {mean:.1f} ms/alert; "
        f"Prefect server busy {busy:.0%} of a core",
        flush=True,
    )


async def drain(client: httpx.AsyncClient, endpoints: EngineEndpoints, *, limit: float) -> None:
    """Wait until the engine's handoffs stop (a backlog of 503'd requests finishing)."""
    deadline = time.monotonic() + limit
    last = await handoff_totals(client, endpoints.url)
    while time.monotonic() < deadline:
        await asyncio.sleep(1.0)
        now = await handoff_totals(client, endpoints.url)
        if now[1] == last[1]:
            return
        last = now


async def bare_create_phase(endpoints: EngineEndpoints, *, rate: float, count: int) -> str:
    """Prefect's create_flow_run from the deployment, called directly (no receiver)."""
    phase = Phase(f"Prefect create_flow_run alone @{rate:g}/s")
    url = f"{endpoints.api_url}/deployments/{endpoints.checklist_id}/create_flow_run"
    bodies = [
        orjson.dumps(
            {
                "parameters": {"scope": "service", "namespace": "bare", "service": f"s{i}"},
                "idempotency_key": uuid.uuid4().hex,
                "tags": ["bench:bare"],
                "state": {"type": "SCHEDULED"},
            }
        )
        for i in range(count)
    ]
    async with WebhookSender(url, headers={}) as sender:
        await open_loop(lambda i: timed_post(sender, bodies[i], phase), rate=rate, count=count)
    return phase.report()


def alert_bodies(prefix: str, count: int) -> list[bytes]:
    """One notification per request, each with one ServiceDown alert for its own Service."""
    starts_at = datetime.now(UTC)
    return [
        orjson.dumps(
            grouped_notification(
                [service_down_labels("bench", f"{prefix}-{i}")],
                starts_at=starts_at,
                group=f"{prefix}-{i}",
            )
        )
        for i in range(count)
    ]


async def prime(client: httpx.AsyncClient, endpoints: EngineEndpoints, bodies: list[bytes]) -> None:
    """Send the bodies one after the other (closed loop, never overloading): their runs exist."""
    headers = {**BEARER, "Content-Type": "application/json"}
    for body in bodies:
        response = await client.post(f"{endpoints.url}/alertmanager", content=body, headers=headers)
        response.raise_for_status()


async def measure(endpoints: EngineEndpoints, *, rates: Sequence[float], seconds: float) -> None:
    """Run every phase at every rate and print the figures.

    Redeliveries go first, on alerts primed one at a time, so that they measure the receiver and
    not the tail of an overload; new alerts (which may overload the run store) come after.
    """
    limits = httpx.Limits(max_connections=2000, max_keepalive_connections=2000)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:
        for rate in rates:
            count = int(rate * seconds)
            print(f"\n--- {rate:g} requests/s for {seconds:g} s ({count} requests) ---", flush=True)
            primed = alert_bodies(f"primed-{rate:g}", min(count, 200))
            await prime(client, endpoints, primed)
            await webhook_phase(
                client,
                endpoints,
                name=f"webhook ack, redeliveries @{rate:g}/s",
                bodies=(primed * (count // len(primed) + 1))[:count],
                rate=rate,
                target=REDELIVERY_TARGET,
            )
            await webhook_phase(
                client,
                endpoints,
                name=f"webhook ack, new alerts @{rate:g}/s",
                bodies=alert_bodies(f"new-{rate:g}", count),
                rate=rate,
                target=NEW_ALERT_TARGET,
            )
            await drain(client, endpoints, limit=120)
            print(await bare_create_phase(endpoints, rate=rate, count=count), flush=True)
            await drain(client, endpoints, limit=120)


def main(argv: Sequence[str] | None = None) -> None:
    """Parse arguments, start the engine in a child process and measure."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rates", type=float, nargs="+", default=[50.0, 200.0])
    parser.add_argument("--engine", choices=["full", "handoff"], default="full")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-ack-") as workdir:
        print(f"engine: {args.engine}; Prefect server: SQLite", flush=True)
        with engine_process(args.engine, Path(workdir)) as endpoints:
            asyncio.run(measure(endpoints, rates=args.rates, seconds=args.seconds))


if __name__ == "__main__":
    main()
