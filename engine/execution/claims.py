"""Claiming a Scheduled run: propose Pending once, and never run again a run that has ended.

Prefect accepts Pending only once (``PreventPendingTransitions``), so when two replicas (or a
submit and the poller) race for one Scheduled run, exactly one claim wins. Prefect also accepts
Pending after a Failed, Crashed or Completed state (a re-run), so a claim made on a stale view
of a run another replica ran to its end meanwhile would run it again. A claim from Scheduled is
told apart by the scheduled time Prefect copies onto its Pending state; any other claim is
handed back (`_reopened`), and the run's final state restored. Each claim names the engine that
made it (host and process), which the run's state history shows.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import httpx
from prefect.client.orchestration import PrefectClient
from prefect.client.schemas.objects import FlowRun, State, StateType
from prefect.exceptions import Abort
from prefect.states import Crashed, Pending
from prefect.utilities.engine import propose_state

from engine.execution.takeover import claim_message
from engine.execution.targets import TargetGate
from flows.run_identity import target_key

logger = logging.getLogger(__name__)

#: A run seen Scheduled longer ago than this is read again before it is claimed.
STALE_AFTER_SECONDS = 0.5


def is_due(flow_run: FlowRun, now: datetime) -> bool:
    """Whether a run is Scheduled (or Late) and its scheduled time has come."""
    state = flow_run.state
    if state is None or state.type != StateType.SCHEDULED:
        return False
    when = flow_run.next_scheduled_start_time or state.state_details.scheduled_time
    return when is None or when <= now


async def claim(
    client: PrefectClient,
    flow_run: FlowRun,
    *,
    targets: TargetGate,
    seen_at: float,
    engine: str,
) -> FlowRun | None:
    """Propose Pending unless the run's target is busy.

    Args:
        client: The Prefect API.
        flow_run: The run, as seen Scheduled.
        targets: This engine's gate on busy targets.
        seen_at: When the run was seen Scheduled (monotonic seconds).
        engine: This engine's name, written on the claim.

    Returns:
        The run (Pending) if this engine won it; None if it was claimed elsewhere, is no
        longer due, waits for its target, or Prefect could not be asked (the poller retries).
    """
    key = target_key(flow_run.tags)
    try:
        # Check and claim as one step per target here: the next check sees this Pending.
        async with targets.hold(key):
            if time.monotonic() - seen_at > STALE_AFTER_SECONDS:
                # Prefect accepts Pending after a final state too (a re-run): make sure a run
                # we saw Scheduled a while ago was not run to the end meanwhile elsewhere.
                flow_run = await client.read_flow_run(flow_run.id)
                if not is_due(flow_run, datetime.now(UTC)):
                    return None
            if key is not None and await targets.is_busy(client, flow_run, key):
                return None
            proposed: State[Any] = Pending(message=claim_message(engine))
            state = await propose_state(client, proposed, flow_run_id=flow_run.id)
            if state.is_pending() and state.state_details.scheduled_time is None:
                await _reopened(client, flow_run.id, claim=state)
                return None
    except Abort:
        logger.debug("flow run %s was claimed elsewhere", flow_run.id)
        return None
    except httpx.HTTPError as exc:
        logger.warning("could not claim flow run %s (poller retries): %r", flow_run.id, exc)
        return None
    if not state.is_pending():
        return None
    targets.claimed(flow_run.id)
    flow_run.state = state
    return flow_run


async def mark_crashed(client: PrefectClient, flow_run_id: UUID, message: str) -> None:
    """Say on the run that nobody executes it any more (unless it already ended)."""
    try:
        await propose_state(client, Crashed(message=message), flow_run_id=flow_run_id)
    except Abort:
        logger.debug("flow run %s already final; not marked crashed", flow_run_id)
    except httpx.HTTPError as exc:
        logger.error("could not mark flow run %s crashed: %r", flow_run_id, exc)


async def _reopened(client: PrefectClient, flow_run_id: UUID, *, claim: State[Any]) -> None:
    """Hand back a claim that reopened a run already ended: restore the state it replaced."""
    states = await client.read_flow_run_states(flow_run_id)
    index = next((i for i, state in enumerate(states) if state.id == claim.id), len(states))
    ended = states[index - 1] if 0 < index <= len(states) else None
    logger.warning(
        "flow run %s had ended (%s) when this engine claimed it; not run again",
        flow_run_id,
        ended.name if ended else "state unknown",
    )
    if ended is None or not ended.is_final():
        await mark_crashed(client, flow_run_id, "The runbook engine reopened this ended run.")
        return
    restored = State(type=ended.type, name=ended.name, message=ended.message, data=ended.data)
    # Forced: the run is back where it was, whatever the rules for a fresh transition say.
    await client.set_flow_run_state(flow_run_id, restored, force=True)
