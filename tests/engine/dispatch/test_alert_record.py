"""The record of resolved alert episodes: names, and the is-it-still-firing query."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from prefect.client.orchestration import PrefectClient
from prefect.client.schemas.objects import FlowRun

from engine.dispatch.alert_record import (
    AlertResolution,
    firing_episodes,
    is_alert_firing,
    is_alert_firing_sync,
    record_resolution,
)
from flows.run_identity import resolution_variable_name

STARTS_AT = datetime(2025, 11, 25, 9, 30, 5, 123456, tzinfo=UTC)


def test_the_resolution_variable_is_named_after_the_episode() -> None:
    assert (
        resolution_variable_name("3f2a9c0e1b4d5a6f", STARTS_AT)
        == "alert-resolved-3f2a9c0e1b4d5a6f-20251125t093005z"
    )


async def test_an_episode_fires_until_its_resolution_is_recorded(
    prefect_client: PrefectClient,
) -> None:
    fingerprint = uuid.uuid4().hex[:16]
    resolution = AlertResolution(
        alertname="KubeProxyDown",
        fingerprint=fingerprint,
        starts_at=STARTS_AT,
        ends_at=STARTS_AT + timedelta(minutes=3),
    )
    assert await is_alert_firing(fingerprint, STARTS_AT, client=prefect_client)

    await record_resolution(prefect_client, resolution)
    await record_resolution(prefect_client, resolution)

    assert not await is_alert_firing(fingerprint, STARTS_AT, client=prefect_client)
    assert not await is_alert_firing(fingerprint, STARTS_AT)
    assert await is_alert_firing(fingerprint, STARTS_AT + timedelta(hours=1), client=prefect_client)


async def test_the_sync_query_reads_the_same_record(prefect_client: PrefectClient) -> None:
    fingerprint = uuid.uuid4().hex[:16]
    assert is_alert_firing_sync(fingerprint, STARTS_AT)

    await record_resolution(
        prefect_client,
        AlertResolution(
            alertname="KubeProxyDown",
            fingerprint=fingerprint,
            starts_at=STARTS_AT,
            ends_at=STARTS_AT,
        ),
    )

    assert not is_alert_firing_sync(fingerprint, STARTS_AT)


def run_of_episode(fingerprint: str, starts_at: datetime) -> FlowRun:
    labels: dict[str, bool | int | float | str] = {
        "alert.fingerprint": fingerprint,
        "alert.starts_at": starts_at.isoformat(),
    }
    return FlowRun(id=uuid.uuid4(), flow_id=uuid.uuid4(), labels=labels)


def test_only_episodes_that_started_recently_count_as_still_firing() -> None:
    now = STARTS_AT + timedelta(hours=6)
    runs = [
        run_of_episode("aaaa000000000001", now - timedelta(minutes=5)),
        run_of_episode("aaaa000000000002", STARTS_AT),  # its resolution was never heard of
        run_of_episode("aaaa000000000003", now - timedelta(minutes=1)),
    ]

    episodes = firing_episodes(
        runs, excluding="aaaa000000000003", since=now - timedelta(minutes=15)
    )

    assert list(episodes.values()) == ["aaaa000000000001"]
