"""Run identity: the tags and labels the engine writes on a run and flows read back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from flows.run_identity import (
    alert_episode_of,
    alert_labels_of,
    cooldown_keys,
    episode_key,
    run_labels,
    run_tags,
    runbook_of,
    target_key,
)
from tests.engine.alert_requests import run_request

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


@pytest.mark.parametrize(
    ("concurrency_key", "target_tags"),
    [(None, []), ("kube-system/kube-proxy", ["target:kube-system/kube-proxy"])],
)
def test_a_run_is_tagged_with_its_alert_fingerprint_runbook_episode_and_target(
    concurrency_key: str | None, target_tags: list[str]
) -> None:
    request = run_request(fingerprint="3f2a9c0e1b4d5a6f", concurrency_key=concurrency_key)

    assert run_tags(request) == [
        "alert:KubeProxyDown",
        "fingerprint:3f2a9c0e1b4d5a6f",
        "runbook:kube-proxy-down",
        "episode:3f2a9c0e1b4d5a6f-20251125t093000z",
        *target_tags,
    ]


def test_a_run_is_labelled_with_the_alerts_labels_and_identity() -> None:
    request = run_request(fingerprint="3f2a9c0e1b4d5a6f", concurrency_key="kube-system/kube-proxy")

    assert run_labels(request) == {
        "alert.namespace": "kube-system",
        "alert.severity": "critical",
        "alert.fingerprint": "3f2a9c0e1b4d5a6f",
        "alert.starts_at": "2025-11-25T09:30:00+00:00",
        "runbook": "kube-proxy-down",
        "concurrency_key": "kube-system/kube-proxy",
    }


@pytest.mark.parametrize(
    ("run_labels", "alert_labels"),
    [
        ({}, {}),
        (
            {
                "alert.alertname": "ServiceDown",
                "alert.namespace": "shop",
                "alert.fingerprint": "5f0c3a9d1e7b2c44",
                "alert.starts_at": "2025-01-10T09:00:00+00:00",
                "runbook": "service-down",
                "prefect.flow.id": "f0bf4be5",
            },
            {"alertname": "ServiceDown", "namespace": "shop"},
        ),
        ({"alert.severity": "critical", "concurrency_key": "shop/web"}, {"severity": "critical"}),
        ({"alert.replicas": 3}, {"replicas": "3"}),
    ],
    ids=["started-by-hand", "dispatcher", "other-labels", "non-text-value"],
)
def test_only_the_alerts_own_labels_are_kept(
    run_labels: dict[str, object], alert_labels: dict[str, str]
) -> None:
    assert alert_labels_of(run_labels) == alert_labels


@pytest.mark.parametrize(
    ("tags", "runbook", "target", "cooldowns"),
    [
        ([], None, None, []),
        (["runbook:service-down", "target:shop/web"], "service-down", "shop/web", []),
        (["target:", "target:a", "target:b"], None, "a", []),
        (["cooldown:x", "cooldown:", "cooldown:y", "runbook:"], None, None, ["x", "y"]),
    ],
    ids=["started-by-hand", "alert-run", "first-non-empty-target", "every-cooldown"],
)
def test_a_runs_tags_are_read_back_by_prefix_and_an_empty_value_counts_as_absent(
    tags: list[str], runbook: str | None, target: str | None, cooldowns: list[str]
) -> None:
    assert (runbook_of(tags), target_key(tags), cooldown_keys(tags)) == (
        runbook,
        target,
        cooldowns,
    )


def test_the_episode_written_on_a_run_is_read_back_from_its_labels() -> None:
    labels = run_labels(run_request(fingerprint="3f2a9c0e1b4d5a6f"))

    assert alert_episode_of(labels) == ("3f2a9c0e1b4d5a6f", "2025-11-25T09:30:00+00:00")


@pytest.mark.parametrize(
    "labels",
    [{}, {"alert.fingerprint": "3f2a"}, {"alert.fingerprint": 1, "alert.starts_at": "2025"}],
    ids=["started-by-hand", "no-start", "not-text"],
)
def test_a_run_without_a_whole_episode_in_its_labels_has_none(labels: dict[str, object]) -> None:
    assert alert_episode_of(labels) is None
