"""What the dispatcher writes on a run (tags, labels, messages) and which runs it may claim."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest
from prefect.client.schemas.objects import FlowRun, State
from prefect.states import Completed, Pending, Scheduled

from engine.executor import is_due
from engine.run_tagging import resolved_message, run_labels, run_tags
from tests.engine.alert_requests import STARTS_AT, resolved, run_request

NOW = datetime(2025, 11, 25, 10, 0, tzinfo=UTC)


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


def test_a_cancelled_run_says_its_alert_resolved_and_when() -> None:
    assert resolved_message(resolved(run_request())) == (
        "Alert KubeProxyDown resolved at 2025-11-25T09:34:00+00:00; not needed."
    )


def flow_run_in(state: State | None) -> FlowRun:
    return FlowRun(id=uuid4(), flow_id=uuid4(), state=state)


@pytest.mark.parametrize(
    ("state", "due"),
    [
        (Scheduled(scheduled_time=NOW - timedelta(seconds=1)), True),
        (Scheduled(scheduled_time=NOW), True),
        (Scheduled(scheduled_time=NOW + timedelta(minutes=5)), False),
        (Scheduled(scheduled_time=STARTS_AT, name="Late"), True),
        (Pending(), False),
        (Completed(), False),
        (None, False),
    ],
)
def test_only_scheduled_runs_whose_time_has_come_are_due(state: State | None, due: bool) -> None:
    assert is_due(flow_run_in(state), NOW) is due
