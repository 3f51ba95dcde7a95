"""The receiver's record of alert episodes that resolved, kept as Prefect Variables.

Flows re-check it before each mutation (``is_alert_firing``): a resolution is written here
*before* waiting runs are cancelled, so a run that slipped into Running meanwhile still sees it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import httpx
from prefect.client.orchestration import PrefectClient, SyncPrefectClient, get_client
from prefect.client.schemas.actions import VariableCreate
from prefect.client.schemas.filters import (
    FlowRunFilter,
    FlowRunFilterDeploymentId,
    FlowRunFilterExpectedStartTime,
    FlowRunFilterTags,
)
from prefect.client.schemas.objects import FlowRun
from prefect.exceptions import ObjectAlreadyExists
from pydantic import BaseModel

from flows.run_identity import (
    RESOLUTION_TAG,
    alert_episode_of,
    alert_tag,
    as_utc,
    resolution_variable_name,
)
from flows.runtime import AlertRef, AlertStatus

logger = logging.getLogger(__name__)


class AlertResolution(BaseModel):
    """What the record keeps about one resolved alert episode."""

    alertname: str
    fingerprint: str
    starts_at: datetime
    ends_at: datetime


async def record_resolution(client: PrefectClient, resolution: AlertResolution) -> None:
    """Write the resolution record; a repeated resolved notification leaves the first one."""
    value: dict[str, Any] = resolution.model_dump(mode="json")
    variable = VariableCreate(
        name=resolution_variable_name(resolution.fingerprint, resolution.starts_at),
        value=value,
        tags=[RESOLUTION_TAG, alert_tag(resolution.alertname)],
    )
    try:
        await client.create_variable(variable)
    except ObjectAlreadyExists:
        return


async def is_alert_firing(
    fingerprint: str, starts_at: datetime, *, client: PrefectClient | None = None
) -> bool:
    """Whether the episode is still firing as far as the receiver knows (no resolution recorded).

    Raises:
        httpx.HTTPError: the Prefect API cannot be read; a flow must then not act.
    """
    name = resolution_variable_name(fingerprint, starts_at)
    if client is not None:
        return await client.read_variable_by_name(name) is None
    async with get_client() as own_client:
        return await own_client.read_variable_by_name(name) is None


def is_alert_firing_sync(fingerprint: str, starts_at: datetime) -> bool:
    """``is_alert_firing`` for synchronous tasks."""
    name = resolution_variable_name(fingerprint, starts_at)
    sync_client: SyncPrefectClient
    with get_client(sync_client=True) as sync_client:
        return sync_client.read_variable_by_name(name) is None


RECENT_ALERT_RUNS = timedelta(minutes=15)
"""How far back `ReceiverRecordChecker.count_firing` looks for runs of other alerts."""
COUNT_BATCH = 200


def firing_episodes(
    runs: Iterable[FlowRun], *, excluding: str | None, since: datetime | None = None
) -> dict[str, str]:
    """The alert episodes `runs` were started for: resolution record name -> fingerprint.

    Only runs the dispatcher created count (they carry the alert's identity as labels); the
    episode of the fingerprint `excluding` is left out, and so is an episode that started
    before `since`: its resolution may have been lost, and a long-past episode must not make a
    run suspect a shared cause.
    """
    episodes: dict[str, str] = {}
    for run in runs:
        episode = alert_episode_of(run.labels)
        if episode is None:
            continue
        fingerprint, starts_at = episode
        started = as_utc(datetime.fromisoformat(starts_at))
        if fingerprint == excluding or (since is not None and started < since):
            continue
        name = resolution_variable_name(fingerprint, started)
        episodes[name] = fingerprint
    return episodes


class ReceiverRecordChecker:
    """The flows' `AlertChecker` over the receiver's record of resolved alert episodes."""

    def __init__(
        self,
        deployment_ids: Iterable[UUID] = (),
        *,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        """Count runs of `deployment_ids` (all runs tagged with an alert, when none given)."""
        self._deployment_ids = list(deployment_ids)
        self._now = now

    def count_firing(self, alertname: str, *, excluding: str | None = None) -> int | None:
        """Alerts of that name the receiver started runs for recently and saw no resolution of.

        Reads the runs tagged ``alert:<alertname>`` expected to start in the last 15 minutes
        whose episodes started in that window too, then the resolution records of those: two
        calls to Prefect's API, however many Services there are. None when Prefect's API
        cannot be read (unknown, not zero).
        """
        recent = self._now() - RECENT_ALERT_RUNS
        runs_filter = FlowRunFilter(
            tags=FlowRunFilterTags(all_=[alert_tag(alertname)]),
            expected_start_time=FlowRunFilterExpectedStartTime(after_=recent),
            deployment_id=FlowRunFilterDeploymentId(any_=self._deployment_ids)
            if self._deployment_ids
            else None,
        )
        client: SyncPrefectClient
        try:
            with get_client(sync_client=True) as client:
                runs = client.read_flow_runs(flow_run_filter=runs_filter, limit=COUNT_BATCH)
                episodes = firing_episodes(runs, excluding=excluding, since=recent)
                if not episodes:
                    return 0
                filter_body = {"variables": {"name": {"any_": sorted(episodes)}}}
                response = client.request("POST", "/variables/filter", json=filter_body)
                response.raise_for_status()
        except httpx.HTTPError as error:
            logger.warning("could not count the %s alerts firing: %r", alertname, error)
            return None
        resolved = {variable["name"] for variable in response.json()}
        return len({fp for name, fp in episodes.items() if name not in resolved})

    def status(self, alert: AlertRef) -> AlertStatus:
        """RESOLVED once the receiver recorded the episode's resolution, else FIRING.

        Raises:
            httpx.HTTPError: The record (Prefect's API) cannot be read; the flow must not act.
        """
        if alert.starts_at is None:
            return AlertStatus.UNKNOWN
        firing = is_alert_firing_sync(alert.fingerprint, alert.starts_at)
        return AlertStatus.FIRING if firing else AlertStatus.RESOLVED
