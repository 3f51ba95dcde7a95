"""The retention flow against a real Prefect server: what it deletes, what it keeps, dry runs.

Runs, artifacts and Variables are made by hand in the states a test needs; "old" is moved
forward instead of back: the flow's clock (its runtime's) is set a day after the moment that
splits the old records from the recent ones, and the retention age to one day. The session's
server is shared, so each test checks its own records and compares counts between runs.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from prefect import flow, task
from prefect.client.orchestration import SyncPrefectClient, get_client
from prefect.client.schemas.actions import ArtifactCreate, LogCreate, VariableCreate
from prefect.client.schemas.filters import (
    ArtifactFilter,
    ArtifactFilterId,
    ArtifactFilterKey,
    LogFilter,
    LogFilterFlowRunId,
)
from prefect.client.schemas.objects import State, StateType
from prefect.client.schemas.sorting import ArtifactSort
from prefect.exceptions import ObjectNotFound
from prefect.states import Cancelled, Completed, Failed, Suspended

from engine.deployments import DeploymentSpec, register_deployments
from flows.incident.records import MARKER_TAG, Incident, marker_name
from flows.maintenance.flow import RETENTION, prefect_retention
from flows.run_identity import PRODUCT_TAG, RESOLUTION_TAG, alert_tag, resolution_variable_name
from flows.runtime import FlowRuntime, use_runtime
from integrations.kubernetes import Kube


@task
def sample_step() -> None:
    """A task the sample runs are given task runs of."""


@flow(name="retention-test-sample")
def sample_flow() -> None:
    """Never run: its deployment's runs are made by hand, in the states a test needs."""


SAMPLE = DeploymentSpec(flow=sample_flow, name="retention-test-sample", tags=(PRODUCT_TAG,))


@dataclass(frozen=True)
class FixedClock:
    """The flow's clock, at a moment the test chooses."""

    moment: datetime

    def now(self) -> datetime:
        """The chosen moment."""
        return self.moment

    def monotonic(self) -> float:
        """The real monotonic clock."""
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        """A real sleep."""
        time.sleep(seconds)


def no_cluster() -> Kube:
    raise AssertionError("the retention flow never touches the cluster")


@dataclass(frozen=True)
class World:
    """Records made before `split` (old once the clock is a day past it) and after it."""

    split: datetime
    completed: UUID
    failed: UUID
    cancelled: UUID
    suspended: UUID
    recent: UUID
    task_run: UUID
    report: UUID
    old_version: UUID
    keyless: UUID
    latest_version: UUID
    old_resolution: str
    recent_resolution: str
    stale_marker: str
    live_marker: str


@pytest.fixture(scope="module")
def deployment_id(prefect_api_url: str) -> UUID:
    """The sample flow as a deployment tagged as the engine tags its own."""
    return asyncio.run(register_deployments([SAMPLE]))[SAMPLE.full_name]


@pytest.fixture
def client(prefect_api_url: str) -> Iterator[SyncPrefectClient]:
    """A synchronous client on the session's Prefect server."""
    sync_client: SyncPrefectClient
    with get_client(sync_client=True) as sync_client:
        yield sync_client


def run_in(client: SyncPrefectClient, deployment_id: UUID, state: State[Any]) -> UUID:
    run = client.create_flow_run_from_deployment(deployment_id)
    client.set_flow_run_state(run.id, state, force=True)
    return run.id


def artifact(client: SyncPrefectClient, run_id: UUID, key: str | None) -> UUID:
    made = client.create_artifact(
        ArtifactCreate(key=key, type="markdown", data="# report", flow_run_id=run_id)
    )
    return made.id


def resolution(client: SyncPrefectClient) -> str:
    name = resolution_variable_name(uuid.uuid4().hex[:16], datetime.now(UTC))
    value = {"alertname": "RetentionTest"}
    client.create_variable(
        VariableCreate(name=name, value=value, tags=[RESOLUTION_TAG, alert_tag("RetentionTest")])
    )
    return name


def marker(client: SyncPrefectClient, owner: UUID) -> str:
    incident = Incident(
        cluster=uuid.uuid4().hex[:12],
        shared="kube-proxy",
        owner_run_id=str(owner),
        cause="kube-proxy down",
        opened_at=datetime.now(UTC),
    )
    name = marker_name(incident.cluster, incident.shared)
    value: dict[str, Any] = incident.model_dump(mode="json")
    client.create_variable(VariableCreate(name=name, value=value, tags=[MARKER_TAG]))
    return name


@pytest.fixture
def world(client: SyncPrefectClient, deployment_id: UUID) -> World:
    """Old runs (three finished, one Suspended) with a task run, logs, an input, artifacts, a
    resolution record and two markers; then a recent finished run and resolution record."""
    completed = run_in(client, deployment_id, Completed())
    failed = run_in(client, deployment_id, Failed())
    cancelled = run_in(client, deployment_id, Cancelled())
    suspended = run_in(client, deployment_id, Suspended(timeout_seconds=3600))
    task_run = client.create_task_run(sample_step, flow_run_id=completed, dynamic_key="0").id
    client.create_logs(
        [
            LogCreate(
                name="retention-test",
                level=20,
                message=f"line {n}",
                timestamp=datetime.now(UTC),
                flow_run_id=completed,
            )
            for n in range(3)
        ]
    )
    client.create_flow_run_input(completed, "approval-answer", '{"approve": true}')
    shared_key = f"retention-test-shared-{uuid.uuid4().hex[:8]}"
    report = artifact(client, completed, f"retention-test-report-{completed}")
    old_version = artifact(client, failed, shared_key)
    keyless = artifact(client, cancelled, None)
    old_resolution = resolution(client)
    stale_marker = marker(client, owner=failed)
    live_marker = marker(client, owner=suspended)
    time.sleep(0.2)  # the server's timestamps on either side of the split differ
    split = datetime.now(UTC)
    time.sleep(0.2)
    recent = run_in(client, deployment_id, Completed())
    latest_version = artifact(client, recent, shared_key)
    recent_resolution = resolution(client)
    return World(
        split=split,
        completed=completed,
        failed=failed,
        cancelled=cancelled,
        suspended=suspended,
        recent=recent,
        task_run=task_run,
        report=report,
        old_version=old_version,
        keyless=keyless,
        latest_version=latest_version,
        old_resolution=old_resolution,
        recent_resolution=recent_resolution,
        stale_marker=stale_marker,
        live_marker=live_marker,
    )


def retain_at(moment: datetime, **parameters: Any) -> State[Any]:
    """Run the retention flow with its clock at `moment`, keeping records for one day."""
    runtime = FlowRuntime(kube_factory=no_cluster, clock=FixedClock(moment))
    with use_runtime(runtime):
        state: State[Any] = prefect_retention(
            **{"retention_days": 1, **parameters}, return_state=True
        )
    return state


def exists_run(client: SyncPrefectClient, run_id: UUID) -> bool:
    try:
        client.read_flow_run(run_id)
    except ObjectNotFound:
        return False
    return True


def artifact_ids(client: SyncPrefectClient, ids: list[UUID]) -> set[UUID]:
    found = client.read_artifacts(artifact_filter=ArtifactFilter(id=ArtifactFilterId(any_=ids)))
    return {a.id for a in found}


def variable_names(client: SyncPrefectClient, names: list[str]) -> set[str]:
    return {name for name in names if client.read_variable_by_name(name) is not None}


def latest_report(client: SyncPrefectClient) -> str:
    [found] = client.read_artifacts(
        artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[RETENTION])),
        sort=ArtifactSort.CREATED_DESC,
        limit=1,
    )
    return str(found.data)


def test_old_finished_runs_go_with_their_records_and_reports_unfinished_and_recent_stay(
    client: SyncPrefectClient, world: World
) -> None:
    state = retain_at(world.split + timedelta(days=1))

    assert state.name == "Trimmed", state.message
    for gone in (world.completed, world.failed, world.cancelled):
        assert not exists_run(client, gone)
    suspended = client.read_flow_run(world.suspended)
    assert suspended.state is not None
    assert suspended.state.type is StateType.PAUSED
    assert exists_run(client, world.recent)
    with pytest.raises(ObjectNotFound):
        client.read_task_run(world.task_run)
    assert (
        client.filter_flow_run_input(world.completed, "approval", limit=10, exclude_keys=set())
        == []
    )
    # The report (the latest version of its key) stays; an older version of a key whose latest
    # belongs to a recent run and an artifact without a key go.
    everything = [world.report, world.old_version, world.keyless, world.latest_version]
    assert artifact_ids(client, everything) == {world.report, world.latest_version}
    report = latest_report(client)
    assert "| reports of the deleted runs |" in report
    assert "| unfinished runs older than the cut-off |" in report
    # Prefect deletes a run's logs in the background, moments after the run.
    deadline = time.monotonic() + 30
    while client.read_logs(LogFilter(flow_run_id=LogFilterFlowRunId(any_=[world.completed]))):
        assert time.monotonic() < deadline, "the deleted run's logs are still there"
        time.sleep(0.2)


def test_resolution_records_older_than_the_age_go_and_recent_ones_stay(
    client: SyncPrefectClient, world: World
) -> None:
    retain_at(world.split + timedelta(days=1))

    names = [world.old_resolution, world.recent_resolution]
    assert variable_names(client, names) == {world.recent_resolution}


def test_a_marker_whose_owner_ended_goes_after_an_hour_and_a_live_owners_stays(
    client: SyncPrefectClient, world: World
) -> None:
    markers = [world.stale_marker, world.live_marker]

    retain_at(world.split + timedelta(minutes=30))
    assert variable_names(client, markers) == set(markers)

    retain_at(world.split + timedelta(hours=2))
    assert variable_names(client, markers) == {world.live_marker}
    # Only the marker was old enough: the runs and records are kept for a day.
    assert exists_run(client, world.completed)
    assert variable_names(client, [world.old_resolution]) == {world.old_resolution}


def test_a_dry_run_deletes_nothing_and_counts_what_a_run_then_deletes(
    client: SyncPrefectClient, world: World
) -> None:
    day_later = world.split + timedelta(days=1)

    counted = retain_at(day_later, dry_run=True)

    assert counted.name == "Counted", counted.message
    assert all(exists_run(client, run) for run in (world.completed, world.failed))
    assert variable_names(client, [world.old_resolution, world.stale_marker]) == {
        world.old_resolution,
        world.stale_marker,
    }
    assert "**Dry run: nothing was deleted.**" in latest_report(client)
    done = retain_at(day_later)
    assert (done.message or "").replace("deleted", "would delete", 1) == counted.message
    assert not exists_run(client, world.completed)


def test_a_second_run_finds_nothing_more_to_delete(client: SyncPrefectClient, world: World) -> None:
    day_later = world.split + timedelta(days=1)
    retain_at(day_later)

    again = retain_at(day_later)

    assert again.name == "Trimmed"
    assert (again.message or "").startswith(
        "deleted 0 runs, 0 artifacts, 0 resolution Variables, 0 incident markers"
    )
    assert exists_run(client, world.suspended)
    assert exists_run(client, world.recent)


def test_without_keeping_reports_they_go_with_their_runs(
    client: SyncPrefectClient, world: World
) -> None:
    retain_at(world.split + timedelta(days=1), keep_reports=False)

    assert artifact_ids(client, [world.report, world.latest_version]) == {world.latest_version}
    assert "The reports of the deleted runs went with them." in latest_report(client)


def test_whether_reports_are_kept_follows_its_setting_when_the_run_does_not_say(
    client: SyncPrefectClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RUNBOOKS_RETENTION_KEEP_REPORTS", "false")

    retain_at(world.split + timedelta(days=1), keep_reports=None)

    assert artifact_ids(client, [world.report]) == set()


def test_the_cap_stops_a_run_and_the_next_one_carries_on(
    client: SyncPrefectClient, world: World
) -> None:
    day_later = world.split + timedelta(days=1)
    mine = (world.completed, world.failed, world.cancelled)

    first = retain_at(day_later, max_runs=1)

    assert (first.message or "").startswith("deleted 1 runs")
    assert "older runs left for the next run (cap 1)" in (first.message or "")
    assert sum(exists_run(client, run) for run in mine) >= 2
    retain_at(day_later)
    assert not any(exists_run(client, run) for run in mine)


def test_the_age_comes_from_its_setting_and_a_bad_one_fails_the_run_naming_the_variable(
    client: SyncPrefectClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RUNBOOKS_RETENTION_DAYS", "2")

    kept = retain_at(world.split + timedelta(days=1), retention_days=None)

    assert kept.name == "Trimmed"
    assert exists_run(client, world.completed)
    monkeypatch.setenv("RUNBOOKS_RETENTION_DAYS", "0")
    refused = retain_at(world.split + timedelta(days=1), retention_days=None)
    assert refused.type is StateType.FAILED
    assert "RUNBOOKS_RETENTION_DAYS must be at least 1" in (refused.message or "")
