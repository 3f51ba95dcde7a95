"""The receiver's record of alert episodes that resolved, kept as Prefect Variables.

Flows re-check it before each mutation (``is_alert_firing``): a resolution is written here
*before* waiting runs are cancelled, so a run that slipped into Running meanwhile still sees it.
This module needs only Prefect (no engine imports), so flows may move it under ``flows/``.
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime
from typing import Any

from prefect.client.orchestration import PrefectClient, SyncPrefectClient, get_client
from prefect.client.schemas.actions import VariableCreate
from prefect.exceptions import ObjectAlreadyExists
from pydantic import BaseModel

RESOLUTION_TAG = "alert-resolution"
_SAFE_FINGERPRINT = re.compile(r"^[a-z0-9]{1,64}$")


class AlertResolution(BaseModel):
    """What the record keeps about one resolved alert episode."""

    alertname: str
    fingerprint: str
    starts_at: datetime
    ends_at: datetime


def as_utc(moment: datetime) -> datetime:
    """The same instant in UTC; a naive time is taken to be UTC already (as Alertmanager's are)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def episode_key(fingerprint: str, starts_at: datetime) -> str:
    """One alert episode (fingerprint + startsAt), as lowercase letters, digits and dashes."""
    fp = fingerprint.lower()
    if not _SAFE_FINGERPRINT.match(fp):
        # Alertmanager fingerprints are 16 hex digits; anything else is hashed to stay a valid name.
        fp = hashlib.sha256(fingerprint.encode()).hexdigest()[:32]
    return f"{fp}-{as_utc(starts_at).strftime('%Y%m%dt%H%M%Sz')}"


def resolution_variable_name(fingerprint: str, starts_at: datetime) -> str:
    """The Prefect Variable recording that this episode resolved."""
    return f"alert-resolved-{episode_key(fingerprint, starts_at)}"


async def record_resolution(client: PrefectClient, resolution: AlertResolution) -> None:
    """Write the resolution record; a repeated resolved notification leaves the first one."""
    value: dict[str, Any] = resolution.model_dump(mode="json")
    variable = VariableCreate(
        name=resolution_variable_name(resolution.fingerprint, resolution.starts_at),
        value=value,
        tags=[RESOLUTION_TAG, f"alert:{resolution.alertname}"],
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
