"""A run's side of an incident, kept in Prefect Variables: claim it, join it, close it, read it.

Every call is safe to repeat: a run re-running from the top after its approval pause claims
the incident it already owns, a join written twice is one join, closing a closed incident
changes nothing. A marker whose owner run has ended (the marker left behind by an engine that
died, or a closed one) is taken over by deleting it *by id*, so of two runs that find the same
stale marker only one deletes it and the other then finds the new owner's.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import httpx
from prefect.client.orchestration import SyncPrefectClient, get_client
from prefect.client.schemas.actions import VariableCreate, VariableUpdate
from prefect.client.schemas.objects import Variable
from prefect.exceptions import ObjectAlreadyExists, ObjectNotFound

from flows.incident.records import (
    JOIN_PREFIX,
    MARKER_TAG,
    Incident,
    IncidentStatus,
    JoinedAlert,
    first_joins,
    join_key,
    marker_name,
    pack_joins,
    unpack_joins,
    unpack_record,
)
from flows.run_identity import as_utc, resolution_variable_name

CLAIM_ATTEMPTS = 5
PAGE = 200
_NOT_FOUND = 404
_CONFLICT = 409


class IncidentContendedError(Exception):
    """The marker kept changing hands while this run tried to claim it (transient)."""


@dataclass(frozen=True, slots=True)
class Claim:
    """The incident a run found for its shared change, and whether the run owns it."""

    incident: Incident
    owned: bool


def claim_incident(proposal: Incident, *, successor_of: str | None = None) -> Claim:
    """Own the incident `proposal` describes, or find the run that already does.

    Args:
        proposal: The incident as this run would own it.
        successor_of: The run this one continues (a follow-up for deferred nodes): its
            incident passes to this run rather than being joined.

    Raises:
        IncidentContendedError: the marker changed hands on every attempt.
        httpx.HTTPError: Prefect's API failed.
    """
    name = marker_name(proposal.cluster, proposal.shared)
    client: SyncPrefectClient
    with get_client(sync_client=True) as client:
        for _ in range(CLAIM_ATTEMPTS):
            value: dict[str, Any] = proposal.model_dump(mode="json")
            try:
                client.create_variable(VariableCreate(name=name, value=value, tags=[MARKER_TAG]))
            except ObjectAlreadyExists:
                pass
            else:
                return Claim(proposal, owned=True)
            found = client.read_variable_by_name(name)
            if found is None:
                continue  # deleted meanwhile: try again
            incident = Incident.model_validate(found.value)
            if incident.owner_run_id == proposal.owner_run_id:
                return Claim(incident, owned=True)
            handed_over = incident.owner_run_id == successor_of
            if (
                not handed_over
                and incident.status is IncidentStatus.OPEN
                and not _has_ended(client, incident.owner_run_id)
            ):
                return Claim(incident, owned=False)
            _delete(client, found)
    raise IncidentContendedError(f"the {proposal.shared} incident marker kept changing hands")


def join_incident(incident: Incident, alert: JoinedAlert) -> None:
    """Record that `incident` answers for `alert` (of a run that then ends)."""
    writer = f"run-{alert.run_id}" if alert.run_id else uuid.uuid4().hex
    client: SyncPrefectClient
    with get_client(sync_client=True) as client:
        try:
            client.create_flow_run_input(
                UUID(incident.owner_run_id), join_key(writer), pack_joins([alert])
            )
        except httpx.HTTPStatusError as error:
            if error.response.status_code != _CONFLICT:
                raise  # a 409: written by an earlier attempt of the same run


def amend_incident(incident: Incident, *, cause: str, nodes: tuple[str, ...]) -> Incident:
    """Say what the owner now plans (its plan grew to the whole cluster); returns it amended."""
    amended = incident.model_copy(update={"cause": cause, "nodes": nodes})
    _rewrite(amended)
    return amended


def close_incident(incident: Incident, *, outcome: str) -> Incident:
    """Stop alerts joining `incident` (its owner's call); returns it as closed."""
    closed = incident.model_copy(update={"status": IncidentStatus.CLOSED, "outcome": outcome})
    _rewrite(closed)
    return closed


def _rewrite(incident: Incident) -> None:
    """Write the marker anew, if it is still `incident`'s owner's."""
    name = marker_name(incident.cluster, incident.shared)
    client: SyncPrefectClient
    with get_client(sync_client=True) as client:
        found = client.read_variable_by_name(name)
        if found is None or _owner_of(found) != incident.owner_run_id:
            return  # already released, and perhaps another incident opened since
        value: dict[str, Any] = incident.model_dump(mode="json")
        client.update_variable(VariableUpdate(name=name, value=value))


def release_incident(incident: Incident) -> None:
    """Delete the marker if it is still `incident`'s, so the next cause opens a new one."""
    client: SyncPrefectClient
    with get_client(sync_client=True) as client:
        found = client.read_variable_by_name(marker_name(incident.cluster, incident.shared))
        if found is not None and _owner_of(found) == incident.owner_run_id:
            _delete(client, found)


def read_joins(owner_run_id: str) -> list[JoinedAlert]:
    """Every alert that joined the incident `owner_run_id` owns, once each, earliest first."""
    return unpack_joins(read_join_records(owner_run_id).values())


class JoinReader:
    """The joins of one incident, read again and again by its owner: each read parses only the
    records written since the last (a record is written once and never changed).

    The owner reads its joins every second while it lingers and before each wave, and the
    sweeper as it rewrites the owner's request; a storm's thousand joined alerts, fetched and
    parsed whole each time, were a third of the engine's CPU while the owner acted.
    """

    def __init__(self, owner_run_id: str) -> None:
        """Read the joins of the incident `owner_run_id` owns."""
        self._owner_run_id = owner_run_id
        self._records: dict[str, list[JoinedAlert]] = {}

    def read(self) -> list[JoinedAlert]:
        """Every alert that joined so far, once each, earliest first (as `read_joins`)."""
        new = read_join_records(self._owner_run_id, known=self._records.keys())
        self._records |= {key: unpack_record(text) for key, text in new.items()}
        return first_joins(alert for alerts in self._records.values() for alert in alerts)


def read_join_records(owner_run_id: str, *, known: Collection[str] = ()) -> dict[str, str]:
    """The join records of the incident `owner_run_id` owns, by key, but for the `known` ones.

    A record is written once and never changed, so a reader that keeps what it read asks only
    for the records written since.
    """
    values: dict[str, str] = {}
    client: SyncPrefectClient
    with get_client(sync_client=True) as client:
        while True:
            page = client.filter_flow_run_input(
                UUID(owner_run_id), JOIN_PREFIX, limit=PAGE, exclude_keys={*known, *values}
            )
            values |= {item.key: item.value for item in page}
            if len(page) < PAGE:
                break
    return values


def read_resolutions(alerts: Iterable[JoinedAlert]) -> dict[tuple[str, datetime], datetime]:
    """When each of `alerts` resolved, for those the receiver recorded resolved."""
    names = {
        resolution_variable_name(a.fingerprint, a.starts_at): (a.fingerprint, as_utc(a.starts_at))
        for a in alerts
    }
    resolved: dict[tuple[str, datetime], datetime] = {}
    ordered = sorted(names)
    client: SyncPrefectClient
    with get_client(sync_client=True) as client:
        for first in range(0, len(ordered), PAGE):
            body = {"variables": {"name": {"any_": ordered[first : first + PAGE]}}, "limit": PAGE}
            response = client.request("POST", "/variables/filter", json=body)
            for item in response.json():
                ends_at = (item.get("value") or {}).get("ends_at")
                if item["name"] in names and ends_at:
                    resolved[names[item["name"]]] = as_utc(datetime.fromisoformat(ends_at))
    return resolved


def _owner_of(marker: Variable) -> str | None:
    value = marker.value
    return str(value.get("owner_run_id")) if isinstance(value, dict) else None


def _has_ended(client: SyncPrefectClient, flow_run_id: str) -> bool:
    try:
        run = client.read_flow_run(UUID(flow_run_id))
    except (ObjectNotFound, ValueError):
        return True
    return run.state is not None and run.state.is_final()


def _delete(client: SyncPrefectClient, variable: Variable) -> None:
    try:
        client.request("DELETE", "/variables/{id}", path_params={"id": variable.id})
    except httpx.HTTPStatusError as error:
        if error.response.status_code != _NOT_FOUND:
            raise  # a 404: another run deleted it first
