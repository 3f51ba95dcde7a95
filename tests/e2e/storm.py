"""An alert storm: grouped webhook notifications, some alerts repeated, sent over several
replicas with redeliveries, each notification retried as Alertmanager retries a 5xx."""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import orjson

from integrations.alertmanager import ZERO_TIME, WebhookAlert, WebhookNotification
from integrations.alertmanager.fingerprint import fingerprint_labels
from tests.e2e.served_engine import BEARER


def service_down_labels(namespace: str, name: str) -> dict[str, str]:
    """A ServiceDown alert's labels (every Service its own cooldown target)."""
    return {"alertname": "ServiceDown", "namespace": namespace, "service": name}


def grouped_notification(
    alerts: Sequence[Mapping[str, str]], *, starts_at: datetime, group: str
) -> dict[str, Any]:
    """A firing version 4 webhook payload carrying several alerts, as one Alertmanager group.

    Args:
        alerts: Each alert's labels.
        starts_at: Every alert's startsAt.
        group: Names the group in its groupKey.
    """
    webhook_alerts = [
        WebhookAlert(
            status="firing",
            labels=dict(labels),
            annotations={"summary": "storm"},
            starts_at=starts_at,
            ends_at=ZERO_TIME,
            fingerprint=fingerprint_labels(labels),
        )
        for labels in alerts
    ]
    notification = WebhookNotification(
        version="4",
        group_key=f'{{}}:{{group="{group}"}}',
        status="firing",
        receiver="storm",
        group_labels={"group": group},
        common_labels={},
        common_annotations={"summary": "storm"},
        alerts=webhook_alerts,
    )
    document = notification.model_dump(mode="json", by_alias=True)
    for alert in document["alerts"]:
        alert["endsAt"] = "0001-01-01T00:00:00Z"  # Go's zero time, as Alertmanager sends it
    return document


@dataclass(frozen=True)
class Storm:
    """The notifications to send and how many distinct alerts they carry.

    Attributes:
        bodies: Each notification, serialized.
        alerts: Alerts carried, repeats included.
        distinct: Distinct alerts: the runs the storm must make.
    """

    bodies: list[bytes]
    alerts: int
    distinct: int


def build_storm(
    *, posts: int, per_post: int, repeat: float, namespace: str = "storm", seed: int = 7
) -> Storm:
    """``posts`` notifications of ``per_post`` alerts; after the first, ``repeat`` of each
    notification's alerts are drawn from alerts sent earlier (as Alertmanager re-sends a
    group's alerts)."""
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
            service_down_labels(namespace, f"svc-{len(sent) + i}")
            for i in range(per_post - len(alerts))
        ]
        sent += fresh
        alerts += fresh
        rng.shuffle(alerts)
        body = grouped_notification(alerts, starts_at=starts_at, group=f"{namespace}-{post}")
        bodies.append(orjson.dumps(body))
    return Storm(bodies=bodies, alerts=posts * per_post, distinct=len(sent))


@dataclass
class Delivery:
    """What sending the storm took.

    Attributes:
        latencies: Seconds from each POST to its answer (every attempt).
        statuses: Answers by status code, or by error for requests that got none.
        retries: Attempts after a refused or failed one.
        gave_up: Notifications never accepted within their attempts.
    """

    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int | str] = field(default_factory=Counter)
    retries: int = 0
    gave_up: int = 0


async def deliver(
    client: httpx.AsyncClient,
    url: str,
    body: bytes,
    delivery: Delivery,
    *,
    attempts: int = 20,
) -> bool:
    """POST one notification until it is accepted (Alertmanager's retry, with back-off), or
    give up after ``attempts`` (Alertmanager would go on trying); whether it was accepted."""
    headers = {**BEARER, "Content-Type": "application/json"}
    for attempt in range(attempts):
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
            return True
        delivery.retries += 1
        await asyncio.sleep(min(0.5 * 1.5**attempt, 10.0))
    delivery.gave_up += 1
    return False


async def send_over_replicas(
    storm: Storm,
    webhook_urls: Sequence[str],
    *,
    redeliver_every: int = 0,
    concurrency: int = 4,
) -> Delivery:
    """Send notification i to replica i mod n, ``concurrency`` at a time; with
    ``redeliver_every`` k, every k-th notification is then sent again to the next replica (as
    an Alertmanager cluster's peers both notify)."""
    delivery = Delivery()
    slots = asyncio.Semaphore(concurrency)
    sends = [(webhook_urls[i % len(webhook_urls)], body) for i, body in enumerate(storm.bodies)]
    if redeliver_every:
        sends += [
            (webhook_urls[(i + 1) % len(webhook_urls)], body)
            for i, body in enumerate(storm.bodies)
            if i % redeliver_every == 0
        ]

    async def one(url: str, body: bytes) -> None:
        async with slots:
            await deliver(client, url, body, delivery)

    async with httpx.AsyncClient(timeout=60) as client:
        await asyncio.gather(*(one(url, body) for url, body in sends))
    return delivery
