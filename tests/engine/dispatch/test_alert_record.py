"""The record of resolved alert episodes: names, and the is-it-still-firing query."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest
from prefect.client.orchestration import PrefectClient

from engine.alert_record import (
    AlertResolution,
    episode_key,
    is_alert_firing,
    is_alert_firing_sync,
    record_resolution,
    resolution_variable_name,
)

STARTS_AT = datetime(2025, 11, 25, 9, 30, 5, 123456, tzinfo=UTC)


@pytest.mark.parametrize(
    ("fingerprint", "starts_at", "expected"),
    [
        ("3f2a9c0e1b4d5a6f", STARTS_AT, "3f2a9c0e1b4d5a6f-20251125t093005z"),
        ("3F2A9C0E1B4D5A6F", STARTS_AT, "3f2a9c0e1b4d5a6f-20251125t093005z"),
        (
            "3f2a9c0e1b4d5a6f",
            STARTS_AT.astimezone(timezone(timedelta(hours=2))),
            "3f2a9c0e1b4d5a6f-20251125t093005z",
        ),
        ("3f2a9c0e1b4d5a6f", STARTS_AT.replace(tzinfo=None), "3f2a9c0e1b4d5a6f-20251125t093005z"),
        ("not/a fingerprint", STARTS_AT, "a1f13ebf3cb99834fa149b4bf0960d69-20251125t093005z"),
    ],
)
def test_an_episode_key_is_the_lowercase_fingerprint_and_the_utc_start(
    fingerprint: str, starts_at: datetime, expected: str
) -> None:
    assert episode_key(fingerprint, starts_at) == expected


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
