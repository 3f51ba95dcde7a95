"""Outstanding approvals answered only when due; the record counts other alerts of a name."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest
from prefect.client.orchestration import PrefectClient
from prefect.settings import PREFECT_API_URL, PREFECT_CLIENT_MAX_RETRIES, temporary_settings
from prefect.states import Scheduled

from engine.approvals.sweeper import ApprovalSweeper, decide_for_waiting
from engine.dispatch.alert_record import AlertResolution, ReceiverRecordChecker, record_resolution
from flows.approval import ApprovalItem, ApprovalRequest, Decision
from flows.run_identity import run_labels, run_tags
from tests.engine.alert_requests import run_request
from tests.engine.approvals.overdue import overdue_request
from tests.prefect_runs import create_run_by_hand

ASKED = datetime(2025, 1, 10, 9, 0, tzinfo=UTC)


def _request(*, with_alert: bool = True) -> ApprovalRequest:
    return ApprovalRequest(
        gate="checklist-approval",
        request_id="5a0e77c1d2b34f60",
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
    run_input = answer.answer.run_input()
    assert (run_input["approve"], run_input["decision"], run_input["by"]) == (
        False,
        "timed_out",
        "runbook-engine",
    )
    assert run_input["request_id"] == "5a0e77c1d2b34f60"


def test_a_request_whose_alert_resolved_is_withdrawn_saying_so() -> None:
    answer = decide_for_waiting(_request(), now=ASKED + timedelta(minutes=1), alert_firing=False)

    assert answer is not None
    assert (answer.answer.decision, answer.answer.reason) == (
        Decision.WITHDRAWN,
        "the alert ServiceDown resolved while waiting",
    )


RECORD = "engine-test-record/engine-test-record"
OTHER_DEPLOYMENT = "engine-test-record-async/engine-test-record-async"
SCHEDULED = datetime.now(UTC).replace(microsecond=0) + timedelta(days=2)
#: The episodes began a little before their runs were due: recent, so they count.
EPISODE_STARTS = SCHEDULED - timedelta(minutes=2)
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
        request = replace(
            run_request(deployment, fingerprint=fingerprint, starts_at=EPISODE_STARTS),
            alertname=alertname,
        )
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
            starts_at=EPISODE_STARTS,
            ends_at=EPISODE_STARTS + timedelta(minutes=3),
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


async def test_two_sweepers_answering_the_same_overdue_request_give_it_one_answer_quietly(
    prefect_client: PrefectClient,
    deployment_ids: dict[str, UUID],
    caplog: pytest.LogCaptureFixture,
) -> None:
    deployment = deployment_ids[RECORD]
    run_id = await overdue_request(prefect_client, deployment, {"marker": "overdue"})
    replicas = [ApprovalSweeper([deployment]), ApprovalSweeper([deployment])]
    stale = await prefect_client.read_flow_run(run_id)

    with caplog.at_level(logging.INFO, logger="engine.approvals.sweeper"):
        resumed = await asyncio.gather(*(replica.sweep_once() for replica in replicas))
        # A sweeper that read the run Paused just before the other answered it.
        late = await replicas[0].answer_if_due(prefect_client, stale)

    names = [state.name for state in await prefect_client.read_flow_run_states(run_id)]
    assert sorted(run_id in answered for answered in resumed) == [False, True]
    assert late is False
    assert names.count("Resuming") == 1
    assert [r.levelno for r in caplog.records if r.levelno >= logging.WARNING] == []
    assert "answered elsewhere" in caplog.text
    await prefect_client.delete_flow_run(run_id)
