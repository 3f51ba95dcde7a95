"""Outstanding approvals answered only when due; the record counts other alerts of a name."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest
from prefect.client.orchestration import PrefectClient
from prefect.settings import PREFECT_API_URL, PREFECT_CLIENT_MAX_RETRIES, temporary_settings
from prefect.states import Scheduled

from engine.alert_record import AlertResolution, record_resolution
from engine.approvals import ReceiverRecordChecker, decide_for_waiting
from engine.run_tagging import run_labels, run_tags
from flows.approval import ApprovalItem, ApprovalRequest
from tests.engine.alert_requests import STARTS_AT, run_request
from tests.prefect_runs import create_run_by_hand

ASKED = datetime(2025, 1, 10, 9, 0, tzinfo=UTC)


def _request(*, with_alert: bool = True) -> ApprovalRequest:
    return ApprovalRequest(
        gate="checklist-approval",
        flow_run_id="3efe0f3c-f890-47cb-893c-a5ec2ab5ed51",
        title="Approve 1 step",
        items=[ApprovalItem(key="k", description="d", blast_radius="b")],
        requested_at=ASKED,
        deadline=ASKED + timedelta(minutes=15),
        alert_fingerprint="5f0c3a9d1e7b2c44" if with_alert else None,
        alert_starts_at=ASKED if with_alert else None,
        alertname="ServiceDown" if with_alert else None,
    )


@pytest.mark.parametrize(
    ("minutes_later", "alert_firing", "expected"),
    [
        (1, True, None),
        (1, None, None),
        (15, True, "approval timed out"),
        (20, False, "approval timed out"),
        (1, False, "alert resolved"),
    ],
)
def test_a_waiting_request_is_answered_only_when_due(
    minutes_later: int, alert_firing: bool | None, expected: str | None
) -> None:
    answer = decide_for_waiting(
        _request(), now=ASKED + timedelta(minutes=minutes_later), alert_firing=alert_firing
    )

    assert (answer.why if answer else None) == expected


def test_the_timeout_answer_is_a_rejection_marked_timed_out_by_the_engine() -> None:
    answer = decide_for_waiting(_request(), now=ASKED + timedelta(hours=1), alert_firing=True)

    assert answer is not None
    assert answer.run_input["approve"] is False
    assert answer.run_input["timed_out"] is True
    assert answer.run_input["by"] == "runbook-engine"


RECORD = "engine-test-record/engine-test-record"
OTHER_DEPLOYMENT = "engine-test-record-async/engine-test-record-async"
SCHEDULED = datetime.now(UTC).replace(microsecond=0) + timedelta(days=2)
"""When the counted runs are scheduled: never due, so no executor of another test claims them."""


@pytest.fixture
async def alert_runs(
    prefect_client: PrefectClient, deployment_ids: dict[str, UUID]
) -> AsyncIterator[Callable[..., Awaitable[None]]]:
    """Create runs as the dispatcher tags and labels them, scheduled two days ahead (never due)."""
    created: list[UUID] = []

    async def create(
        alertname: str,
        fingerprint: str,
        *,
        deployment: str = RECORD,
    ) -> None:
        request = replace(run_request(deployment, fingerprint=fingerprint), alertname=alertname)
        labels: dict[str, bool | int | float | str] = dict(run_labels(request))
        run = await create_run_by_hand(
            prefect_client,
            deployment_ids[deployment],
            parameters=dict(request.parameters),
            tags=run_tags(request),
            labels=labels,
            state=Scheduled(scheduled_time=SCHEDULED),
        )
        created.append(run.id)

    yield create
    for run_id in created:
        await prefect_client.delete_flow_run(run_id)


async def test_the_record_counts_other_unresolved_alerts_of_the_name_started_recently(
    alert_runs: Callable[..., Awaitable[None]],
    prefect_client: PrefectClient,
    deployment_ids: dict[str, UUID],
) -> None:
    name = f"ServiceDown{uuid.uuid4().hex[:8]}"
    own, firing, resolved_one, elsewhere = (uuid.uuid4().hex[:16] for _ in range(4))
    await alert_runs(name, own)
    await alert_runs(name, firing)
    await alert_runs(name, firing)  # a second run of the same episode is the same alert
    await alert_runs(name, resolved_one)
    await alert_runs(name, elsewhere, deployment=OTHER_DEPLOYMENT)
    await alert_runs(f"{name}Other", uuid.uuid4().hex[:16])
    await record_resolution(
        prefect_client,
        AlertResolution(
            alertname=name,
            fingerprint=resolved_one,
            starts_at=STARTS_AT,
            ends_at=STARTS_AT + timedelta(minutes=3),
        ),
    )
    soon = ReceiverRecordChecker([deployment_ids[RECORD]], now=lambda: SCHEDULED)
    later = ReceiverRecordChecker(
        [deployment_ids[RECORD]], now=lambda: SCHEDULED + timedelta(minutes=20)
    )
    any_deployment = ReceiverRecordChecker(now=lambda: SCHEDULED)

    assert await asyncio.to_thread(soon.count_firing, name, excluding=own) == 1
    assert await asyncio.to_thread(soon.count_firing, name) == 2
    assert await asyncio.to_thread(any_deployment.count_firing, name, excluding=own) == 2
    assert await asyncio.to_thread(later.count_firing, name, excluding=own) == 0
    assert await asyncio.to_thread(soon.count_firing, f"{name}Unseen") == 0


def test_the_record_cannot_count_when_prefect_is_unreachable() -> None:
    with temporary_settings(
        {PREFECT_API_URL: "http://127.0.0.1:9/api", PREFECT_CLIENT_MAX_RETRIES: 0}
    ):
        assert ReceiverRecordChecker().count_firing("ServiceDown") is None
