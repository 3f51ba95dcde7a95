"""An incident's one waiting request, kept current from the engine as alerts join it.

The owner run is Suspended while it waits, so it cannot say that more alerts joined; the
sweeper can. For each waiting request whose run owns an open incident it reads the joins and,
when their number changed, rewrites what humans read: the Prefect UI's resume form description
and the Slack message (through the notifier, in the background). It also tells the sweeper that
the request still answers for firing alerts after the owner's own alert resolved, so it is not
withdrawn while others still need the change.

Several replicas may refresh the same request; each writes the same words, so that is only
repeated work. How many alerts each request showed last is kept in memory: after a restart
the first sweep writes it once more. So are the join records read (each is written once and
never changed): a sweep reads and parses only the records written since the last, not every
alert of a storm again.
"""

from __future__ import annotations

import asyncio
import logging
from uuid import UUID

import httpx
import orjson
from prefect.client.orchestration import PrefectClient
from prefect.client.schemas.objects import FlowRun
from prefect.input.run_input import keyset_from_paused_state

from engine.dispatch.incidents import read_open_incidents
from flows.approval import ApprovalRequest, RunSubject, render_request
from flows.approval.notifier import Notifier
from flows.incident.ledger import JoinReader, read_resolutions
from flows.incident.records import Incident, JoinedAlert, coverage_of
from flows.run_identity import as_utc

logger = logging.getLogger(__name__)

_NOT_FOUND = 404


class CoverageRefresher:
    """Rewrites waiting incident requests as alerts join them (see the module's docstring)."""

    def __init__(self, cluster: str, notifier: Notifier) -> None:
        """Refresh the requests of `cluster`'s incidents; tell Slack through `notifier`."""
        self._cluster = cluster
        self._notifier = notifier
        self._incidents: dict[str, Incident] = {}
        self._shown: dict[UUID, int] = {}
        self._joins: dict[str, JoinReader] = {}

    async def read_incidents(self, client: PrefectClient) -> None:
        """Read the open incidents (once per sweep)."""
        incidents = await read_open_incidents(client, self._cluster)
        self._incidents = {i.owner_run_id: i for i in incidents.values()}
        live = {UUID(owner) for owner in self._incidents}
        self._shown = {run: shown for run, shown in self._shown.items() if run in live}
        self._joins = {o: r for o, r in self._joins.items() if o in self._incidents}

    async def others_firing(self, run: FlowRun) -> bool:
        """Whether `run` owns an open incident and an alert that joined it still fires."""
        covered = await self._covered(run)
        if not covered:
            return False
        resolved = await asyncio.to_thread(read_resolutions, covered)
        return any((a.fingerprint, as_utc(a.starts_at)) not in resolved for a in covered)

    async def refresh(self, client: PrefectClient, run: FlowRun, request: ApprovalRequest) -> bool:
        """Rewrite `run`'s waiting `request` if more alerts joined its incident; whether it did."""
        incident = self._incidents.get(str(run.id))
        if incident is None or run.state is None:
            return False
        covered = await self._covered(run)
        shown = self._shown.get(run.id, request.coverage.alerts if request.coverage else 0)
        if len(covered) == shown:
            return False
        updated = request.model_copy(
            update={"coverage": coverage_of(incident.shared, incident.cause, covered)}
        )
        key = keyset_from_paused_state(run.state)["description"]
        await _replace_input(client, run.id, key, render_request(updated))
        subject = RunSubject(flow_run_id=str(run.id), title=request.title, report_key="")
        await asyncio.to_thread(self._notifier.approval_updated, subject, updated)
        self._shown[run.id] = len(covered)
        logger.info(
            "approval request of flow run %s now answers for %d other alert(s)",
            run.id,
            len(covered),
        )
        return True

    async def _covered(self, run: FlowRun) -> list[JoinedAlert]:
        incident = self._incidents.get(str(run.id))
        if incident is None:
            return []
        owner = incident.owner_run_id
        reader = self._joins.setdefault(owner, JoinReader(owner))
        joins = await asyncio.to_thread(reader.read)
        return [a for a in joins if a.run_id != str(run.id)]


async def _replace_input(client: PrefectClient, run_id: UUID, key: str, value: str) -> None:
    """Write a flow run input anew (Prefect keeps each key once: delete, then create)."""
    try:
        await client.delete_flow_run_input(run_id, key)
    except httpx.HTTPStatusError as error:
        if error.response.status_code != _NOT_FOUND:
            raise
    await client.create_flow_run_input(run_id, key, orjson.dumps(value).decode())
