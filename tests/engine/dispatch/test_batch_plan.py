"""Planning a batch: each request is decided as if the batch's requests came one by one."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from prefect.client.schemas.objects import FlowRun
from prefect.states import Completed

from engine.dispatch.batch_plan import (
    Create,
    Existing,
    Held,
    HeldBy,
    Joins,
    SameAs,
    plan_submits,
)
from engine.handoff import RunRequest
from tests.engine.alert_requests import STARTS_AT, run_request

KUBE_PROXY = "kube-proxy"

NOW = datetime(2025, 11, 25, 10, 0, tzinfo=UTC)
WEB = "service-down:shop/web"


def cooled(fingerprint: str, *, starts_at: datetime = STARTS_AT) -> RunRequest:
    return run_request(
        fingerprint=fingerprint, starts_at=starts_at, cooldown_key=WEB, cooldown_seconds=600
    )


def run_of(request: RunRequest | None = None, *, age: float = 30) -> FlowRun:
    return FlowRun(
        id=uuid.uuid4(),
        flow_id=uuid.uuid4(),
        state=Completed(),
        idempotency_key=request.idempotency_key if request else "another-episode",
        expected_start_time=NOW - timedelta(seconds=age),
        run_count=1,
    )


def test_new_requests_without_cooldown_are_all_created() -> None:
    requests = [run_request(), run_request()]

    assert plan_submits(requests, existing={}, recent={}, now=NOW) == [Create(), Create()]


def test_a_key_that_already_has_a_run_gets_that_run() -> None:
    request = cooled("a")
    run = run_of(request, age=3600)  # older than the cooldown: still its own run

    decisions = plan_submits([request], existing={request.idempotency_key: run}, recent={}, now=NOW)

    assert decisions == [Existing(run.id)]


def test_the_same_key_twice_in_a_batch_is_created_once() -> None:
    request = run_request()

    assert plan_submits([request, request], existing={}, recent={}, now=NOW) == [
        Create(),
        SameAs(0),
    ]


def test_a_recent_run_of_the_cooldown_key_holds_a_new_episode_back() -> None:
    recent = run_of(age=42)

    (decision,) = plan_submits([cooled("a")], existing={}, recent={WEB: [recent]}, now=NOW)

    assert isinstance(decision, Held)
    assert (decision.hold.run_id, decision.hold.age_seconds) == (recent.id, 42)


def test_two_episodes_of_one_target_in_a_batch_create_one_run_and_hold_the_other() -> None:
    later = STARTS_AT + timedelta(minutes=1)
    requests = [cooled("a"), run_request(), cooled("b", starts_at=later)]

    assert plan_submits(requests, existing={}, recent={}, now=NOW) == [
        Create(),
        Create(),
        HeldBy(0),
    ]


@pytest.mark.parametrize(
    ("age", "expected"),
    [(599, "held"), (601, "created")],
)
def test_only_runs_inside_the_window_hold(age: float, expected: str) -> None:
    (decision,) = plan_submits([cooled("a")], existing={}, recent={WEB: [run_of(age=age)]}, now=NOW)

    assert ("held" if isinstance(decision, Held) else "created") == expected


def joining(fingerprint: str | None = None) -> RunRequest:
    return replace(run_request(fingerprint=fingerprint), joins_incident=KUBE_PROXY)


@pytest.mark.parametrize(
    ("joins", "open_incidents", "expected"),
    [
        (KUBE_PROXY, {KUBE_PROXY}, Joins(KUBE_PROXY)),
        (KUBE_PROXY, set(), Create()),
        (None, {KUBE_PROXY}, Create()),
        ("coredns", {KUBE_PROXY}, Create()),
    ],
)
def test_an_alert_joins_only_an_open_incident_of_the_object_its_runbook_names(
    joins: str | None, open_incidents: set[str], expected: object
) -> None:
    request = replace(run_request(), joins_incident=joins)

    decisions = plan_submits(
        [request], existing={}, recent={}, now=NOW, open_incidents=open_incidents
    )

    assert decisions == [expected]


def test_an_alert_that_already_has_its_run_keeps_it_during_an_incident() -> None:
    request = joining()
    run = run_of(request)

    decisions = plan_submits(
        [request],
        existing={request.idempotency_key: run},
        recent={},
        now=NOW,
        open_incidents={KUBE_PROXY},
    )

    assert decisions == [Existing(run.id)]


def test_an_alert_joins_an_incident_rather_than_wait_out_a_cooldown() -> None:
    request = replace(cooled("a"), joins_incident=KUBE_PROXY)

    decisions = plan_submits(
        [request],
        existing={},
        recent={WEB: [run_of(age=30)]},
        now=NOW,
        open_incidents={KUBE_PROXY},
    )

    assert decisions == [Joins(KUBE_PROXY)]
