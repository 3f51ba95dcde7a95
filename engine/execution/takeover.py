"""Runs whose engine went away mid-run: a live replica takes each over, once.

A run is abandoned when the unresponsive-run automation marked it Crashed (its engine was
killed or lost its node) or a stopping engine did (its shutdown grace ran out). Left so, the
incident it was working on would wait for a human: its alert's redeliveries map to the same,
Crashed, run. Yet its steps are safe to run again from the top, as after an approval: finished
mutations come back from their persisted results and every mutation first re-checks a fresh
observation (a kube-proxy pod already replaced is skipped, not restarted again). So a live
replica puts it back to Scheduled and claims it like any other due run.

Once only, decided by a flow-run input that only one replica can create: a run abandoned again
may be what kills engines, and stays Crashed for a human. A run abandoned long ago is left
alone too: whoever looks at the cluster by then should decide. And never by the engine that
claimed it: one alive to see its run Crashed (its heartbeats lost in a Prefect outage) may still
be executing it, and stops at its next change (`flows.run_guard`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import httpx
from prefect.client.orchestration import PrefectClient
from prefect.client.schemas import OrchestrationResult
from prefect.client.schemas.filters import (
    FlowRunFilter,
    FlowRunFilterDeploymentId,
    FlowRunFilterEndTime,
    FlowRunFilterState,
    FlowRunFilterStateType,
)
from prefect.client.schemas.objects import FlowRun, StateType
from prefect.client.schemas.responses import SetStateStatus
from prefect.exceptions import PrefectHTTPStatusError
from prefect.states import Scheduled

logger = logging.getLogger(__name__)

#: The flow-run input whose creation (once per run, by one replica) decides the takeover.
TAKEOVER_KEY = "engine-takeover"
#: A run abandoned longer ago than this stays Crashed.
TAKEOVER_WITHIN = timedelta(minutes=15)
#: The name of the Scheduled state a taken-over run waits in for its claim.
RESCHEDULED = "Rescheduled"
CLAIMED_BY = "Claimed by engine "
_CONFLICT = 409
_TOO_MANY = 429


def find_abandoned_filter(deployment_ids: Iterable[UUID], *, now: datetime) -> FlowRunFilter:
    """Our deployments' runs that became Crashed within `TAKEOVER_WITHIN`."""
    return FlowRunFilter(
        deployment_id=FlowRunFilterDeploymentId(any_=list(deployment_ids)),
        state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.CRASHED])),
        end_time=FlowRunFilterEndTime(after_=now - TAKEOVER_WITHIN),
    )


def claim_message(engine: str) -> str:
    """The message of the Pending state by which `engine` claims a run."""
    return f"{CLAIMED_BY}{engine}"


async def claimed_by(client: PrefectClient, flow_run_id: UUID) -> str | None:
    """The engine that made the run's latest claim, if an engine did."""
    claims = [
        state.message
        for state in await client.read_flow_run_states(flow_run_id)
        if state.type is StateType.PENDING
        and state.message is not None
        and state.message.startswith(CLAIMED_BY)
    ]
    return claims[-1].removeprefix(CLAIMED_BY) if claims else None


def was_abandoned(flow_run: FlowRun, *, messages: tuple[str, ...]) -> bool:
    """Whether the run was Crashed with a message starting with one of ``messages``: those that
    say its engine went away (not a bug, not a human)."""
    state = flow_run.state
    if state is None or state.type is not StateType.CRASHED or not state.message:
        return False
    return state.message.startswith(messages)


class Takeover:
    """Finds abandoned runs and reschedules those this replica wins (each run at most once)."""

    def __init__(
        self, deployment_ids: Iterable[UUID], *, engine: str, abandoned: tuple[str, ...]
    ) -> None:
        """Take over runs of `deployment_ids` as `engine` (named in the run's states).

        Args:
            deployment_ids: Our deployments.
            engine: This engine's name, as its claims give it.
            abandoned: How the messages of runs Crashed because their engine went away begin.
        """
        self._deployment_ids = list(deployment_ids)
        self._engine = engine
        self._abandoned = abandoned
        self._decided: set[UUID] = set()  # taken over by someone, or not ours to take

    async def reschedule_abandoned(self, client: PrefectClient, *, limit: int) -> list[FlowRun]:
        """Put back to Scheduled the abandoned runs this replica wins; returns them."""
        if not self._deployment_ids or limit <= 0:
            return []
        crashed = await client.read_flow_runs(
            flow_run_filter=find_abandoned_filter(self._deployment_ids, now=datetime.now(UTC)),
            limit=limit + len(self._decided),
        )
        if len(crashed) < limit + len(self._decided):  # every one in the window was seen
            self._decided &= {flow_run.id for flow_run in crashed}
        rescheduled: list[FlowRun] = []
        for flow_run in crashed:
            if len(rescheduled) >= limit:
                break
            if flow_run.id in self._decided:
                continue
            self._decided.add(flow_run.id)
            if not was_abandoned(flow_run, messages=self._abandoned):
                continue
            # Only a run another engine claimed was abandoned by one; never one nobody executed.
            if await claimed_by(client, flow_run.id) in (None, self._engine):
                continue
            if await self._reschedule(client, flow_run):
                rescheduled.append(flow_run)
        return rescheduled

    async def _reschedule(self, client: PrefectClient, flow_run: FlowRun) -> bool:
        crashed = flow_run.state.message if flow_run.state else None
        if not await reschedule_once(
            client,
            flow_run,
            engine=self._engine,
            why=f"Taken over by engine {self._engine} after: {crashed}",
        ):
            return False
        logger.warning(
            "flow run %s was abandoned by its engine (%s); taking it over", flow_run.id, crashed
        )
        return True


async def reschedule_once(
    client: PrefectClient, flow_run: FlowRun, *, engine: str, why: str
) -> bool:
    """Put `flow_run` back to Scheduled for a claim, unless it was put back before (by anyone).

    Decided by a flow-run input only one caller can create, so a run is rescheduled at most
    once whichever replica, or whichever of the engine's paths, asks. Returns whether this call
    did it (`flow_run.state` is then the new state).
    """
    try:
        await client.create_flow_run_input(flow_run.id, key=TAKEOVER_KEY, value=engine)
    except PrefectHTTPStatusError as error:
        if error.response.status_code != _CONFLICT:
            raise
        logger.debug("flow run %s was taken over before (or elsewhere)", flow_run.id)
        return False
    # Forced: Prefect's rules for leaving a terminal state forget the approval gates the run
    # passed, and its re-run would ask again for what was already answered.
    result: OrchestrationResult[Any] = await client.set_flow_run_state(
        flow_run.id, Scheduled(name=RESCHEDULED, message=why), force=True
    )
    if result.status is not SetStateStatus.ACCEPT or result.state is None:
        logger.warning("could not reschedule flow run %s: %s", flow_run.id, result)
        return False
    flow_run.state = result.state
    return True


def prefect_unreachable(error: BaseException) -> bool:
    """Whether `error` (or an error it came from) says Prefect could not be reached or could not
    answer (a refused or reset connection, a timeout, a 5xx or a 429): not a bug of the run."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, httpx.TransportError):
            return True
        if isinstance(current, httpx.HTTPStatusError):
            status = current.response.status_code
            return status >= 500 or status == _TOO_MANY
        current = current.__cause__ or current.__context__
    return False
