"""Warm, in-process execution of our deployments' flow runs: claim by proposing Pending, then run.

Exactly one claim on a Scheduled run wins (`engine.execution.claims`), and only that engine
runs the flow, on a daemon thread of this process, through Prefect's own flow engine with the
existing run (its deployment, parameters and UI view are kept).

A run whose engine went away mid-run is rescheduled and claimed by a live replica, once
(`engine.execution.takeover`); so is a run whose thread here stopped because Prefect could not
be reached, by this engine once Prefect answers again.

One run per target: a run tagged ``target:<concurrency_key>`` is not claimed while another run
with that tag is Pending, Running or Cancelling anywhere (`engine.execution.targets`, one API
call); it stays Scheduled, the wait is logged once, and the poller retries it (next poll, or at
once when a run with a target finishes here). Here check and claim are serialized per key; across
replicas two claims within one round trip can both win (the dispatcher's cooldown makes that
rare: this is no distributed lock). A killed engine's run holds its target until
`engine.execution.heartbeats` marks it Crashed. Runs started by hand carry no ``target:`` tag.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import os
import socket
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import httpx
from prefect import Flow
from prefect.client.orchestration import PrefectClient, get_client
from prefect.client.schemas.objects import FlowRun, State, StateType
from prefect.context import SettingsContext, get_settings_context
from prefect.exceptions import Abort, Pause
from prefect.flow_engine import run_flow

from engine.execution.claims import claim, is_due, mark_crashed
from engine.execution.heartbeats import CRASH_MESSAGE_START, with_heartbeats
from engine.execution.run_threads import flush_run_records, in_daemon_thread
from engine.execution.takeover import (
    Takeover,
    prefect_unreachable,
    reschedule_once,
)
from engine.execution.targets import TargetGate
from flows.run_identity import target_key
from flows.runtime import FlowRuntime, use_runtime

logger = logging.getLogger(__name__)

#: Runs launched but waiting for a slot, beyond ``max_runs``, as a multiple of it; past that,
#: new runs are left Scheduled for the poller (ours or another replica's).
QUEUE_FACTOR = 4

#: This engine in the runs' states: the pod's name in a cluster, and the process.
ENGINE_NAME = f"{socket.gethostname()}/{os.getpid()}"

#: How the message of a run a stopping engine marks Crashed begins (kept across versions: a
#: replica takes over the runs of one stopped in a rolling update).
SHUTDOWN_MESSAGE_START = "The runbook engine stopped while this run was in progress"
SHUTDOWN_MESSAGE = (
    f"{SHUTDOWN_MESSAGE_START}; it did not finish. Another replica of the engine takes it over; "
    "if none does, check the target, then start the deployment again from the Prefect UI."
)
#: How long a run stopped by a Prefect outage waits for Prefect to come back before it is left
#: for another replica to take over (`WarmExecutor._run_again`).
PREFECT_BACK_WITHIN_SECONDS = 300.0
PREFECT_BACK_POLL_SECONDS = 2.0
#: The server-side states of a run whose thread here has ended that nobody else will move on.
UNFINISHED_HERE = frozenset({StateType.PENDING, StateType.RUNNING, StateType.CRASHED})
#: How the messages of runs Crashed because their engine went away begin.
ABANDONED = (CRASH_MESSAGE_START, SHUTDOWN_MESSAGE_START)


class UnsupportedFlowError(ValueError):
    """A flow the executor cannot run in-process (generator flows)."""


class WarmExecutor:
    """Runs our deployments' flow runs in this process, at most ``max_runs`` at once.

    ``launch`` (called by the dispatcher right after a run is created) and a poller (every
    ``poll_interval`` s, for runs started by hand in the UI or created while no engine ran) both
    claim runs the same way. Flow runs use this process's Prefect settings (PREFECT_API_URL).
    ``start``, ``launch`` and ``stop`` belong to one event loop (the receiver's).
    """

    def __init__(
        self,
        flows: Mapping[UUID, Flow[..., Any]],
        *,
        max_runs: int = 4,
        poll_interval: float = 2.0,
        shutdown_grace: float = 30.0,
        heartbeat_seconds: int | None = None,
        runtime: FlowRuntime | None = None,
    ) -> None:
        """Create an executor.

        Args:
            flows: The flow to run for each of our deployments, by deployment id.
            max_runs: Most runs executing at once; runs beyond it wait, still Scheduled (so
                another replica may take them), for a slot.
            poll_interval: Seconds between looks for due Scheduled runs.
            shutdown_grace: Seconds ``stop`` lets running flows finish before marking them
                Crashed.
            heartbeat_seconds: Seconds between a running flow's heartbeat events (what
                ``engine.execution.heartbeats`` watches); None keeps Prefect's setting.
            runtime: What every flow run acts through (its own, per run); None: flows build
                one from ``RUNBOOKS_*`` settings.
        """
        for flow in flows.values():
            if flow.isgenerator:
                raise UnsupportedFlowError(f"generator flow {flow.name!r} cannot run in-process")
        self._flows = dict(flows)
        self._max_runs = max_runs
        self._poll_interval = poll_interval
        self._shutdown_grace = shutdown_grace
        self._heartbeat_seconds = heartbeat_seconds
        self._runtime = runtime
        self._active: dict[UUID, asyncio.Task[None]] = {}
        self._slots = asyncio.Semaphore(max_runs)
        self._claimed: set[UUID] = set()
        self._targets = TargetGate()
        self._wake = asyncio.Event()  # a run of a target finished: poll now
        self._poll_when_done: set[UUID] = set()
        self._client: PrefectClient | None = None
        self._settings: SettingsContext | None = None
        self._poller: asyncio.Task[None] | None = None
        self._stopping = False
        self._takeover = Takeover(flows, engine=ENGINE_NAME, abandoned=ABANDONED)

    @property
    def active_runs(self) -> frozenset[UUID]:
        """Runs this executor has launched and not finished (claiming or running)."""
        return frozenset(self._active)

    async def start(self, *, poll: bool = True) -> None:
        """Open the API client and (unless ``poll`` is False) start polling for due runs."""
        self._settings = with_heartbeats(get_settings_context(), self._heartbeat_seconds)
        if not self._settings.settings.api.url:
            # Without it Prefect would start a throwaway ephemeral server per client.
            raise RuntimeError("PREFECT_API_URL is not set; see engine.prefect_server")
        self._client = await get_client().__aenter__()
        if poll:
            self._poller = asyncio.get_running_loop().create_task(self._poll_forever())

    def launch(self, flow_run: FlowRun) -> None:
        """Claim and run ``flow_run`` in the background, once a slot frees, if ours and due."""
        self._launch(flow_run)

    async def poll_once(self) -> list[UUID]:
        """Launch the due Scheduled runs of our deployments (also marks them Ready in the UI).

        Returns:
            The runs launched (claims still to be decided).
        """
        client = self._require_client()
        free = self._max_runs - len(self._active)
        # Look past the runs waiting for a busy target, so they do not starve the others.
        ahead = len(self._targets.waiting)
        # Asked even with no free slot: the poll itself keeps our deployments "Ready" in the UI.
        limit = max(free, 1) + ahead
        runs = await client.get_scheduled_flow_runs_for_deployments(
            deployment_ids=list(self._flows), scheduled_before=datetime.now(UTC), limit=limit
        )
        if len(runs) < limit:  # every due run seen: the waiting ones missing have left
            self._targets.keep_only(run.id for run in runs)
        launched = [run.id for run in runs[: max(free, 0) + ahead] if self._launch(run)]
        # Only with a slot to spare: a busy replica leaves abandoned runs to an idle one.
        spare = free - len(launched)
        abandoned = await self._takeover.reschedule_abandoned(client, limit=spare)
        return launched + [run.id for run in abandoned if self._launch(run)]

    async def stop(self) -> None:
        """Stop polling, let running flows finish for ``shutdown_grace`` s, mark the rest Crashed.

        Flow threads are daemons: whatever still runs after this dies with the process, and its
        run already says Crashed, so no run is left looking alive.
        """
        self._stopping = True
        if self._poller is not None:
            self._poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poller
        running = dict(self._active)
        if running:
            await asyncio.wait(running.values(), timeout=self._shutdown_grace)
        for flow_run_id, task in running.items():
            if task.done():
                continue
            if flow_run_id in self._claimed:
                await self._mark_crashed(flow_run_id, SHUTDOWN_MESSAGE)
            task.cancel()  # an unclaimed run stays Scheduled for the next engine
        await asyncio.to_thread(flush_run_records)
        if self._client is not None:
            await self._client.__aexit__(None, None, None)
            self._client = None

    def _launch(self, flow_run: FlowRun) -> bool:
        if flow_run.id in self._active:
            # Its previous turn is still winding down (a run answered right after it
            # suspended): poll as soon as that turn ends instead of at the next interval.
            self._poll_when_done.add(flow_run.id)
            return False
        if (
            self._stopping
            or self._client is None
            or flow_run.deployment_id not in self._flows
            or len(self._active) >= self._max_runs * QUEUE_FACTOR
            or not is_due(flow_run, datetime.now(UTC))
        ):
            return False
        task = asyncio.get_running_loop().create_task(
            self._claim_and_run(flow_run, seen_at=time.monotonic()), name=f"flow-run-{flow_run.id}"
        )
        self._active[flow_run.id] = task
        task.add_done_callback(lambda _: self._turn_ended(flow_run.id))
        return True

    def _turn_ended(self, flow_run_id: UUID) -> None:
        self._active.pop(flow_run_id, None)
        if flow_run_id in self._poll_when_done:
            self._poll_when_done.discard(flow_run_id)
            self._wake.set()

    async def _claim_and_run(self, flow_run: FlowRun, *, seen_at: float) -> None:
        # Claim only once a slot is free: until then the run stays Scheduled, and another
        # replica with a free slot may take it (our later claim is then simply refused).
        async with self._slots:
            claimed = None
            if not self._stopping:
                claimed = await claim(
                    self._require_client(),
                    flow_run,
                    targets=self._targets,
                    seen_at=seen_at,
                    engine=ENGINE_NAME,
                )
            if claimed is None:
                return
            flow_run = claimed
            self._claimed.add(flow_run.id)
            assert flow_run.deployment_id is not None  # checked by _launch
            flow = self._flows[flow_run.deployment_id]
            try:
                await in_daemon_thread(
                    lambda: self._execute(flow, flow_run), name=f"flow-run-{flow_run.id}"
                )
            except Pause:
                # A state the server already holds; nothing is left running here.
                logger.info(
                    "flow run %s waits for an answer (Suspended): it runs on, here or on another "
                    "replica, once answered",
                    flow_run.id,
                )
            except Abort as exc:
                # Orchestration stopped the run (e.g. cancelled): the server holds its state.
                logger.info("flow run %s was stopped by Prefect: %s", flow_run.id, exc or "aborted")
            except Exception as error:
                if prefect_unreachable(error):
                    logger.warning(
                        "flow run %s stopped: Prefect could not be reached (%s); it runs again "
                        "from the top once Prefect answers",
                        flow_run.id,
                        type(error).__name__,
                    )
                    await self._run_again(flow_run.id)
                else:
                    # The run's thread died outside the flow engine's own handling: say so on
                    # the run instead of leaving it Running with nobody executing it.
                    logger.exception("flow run %s failed in the executor", flow_run.id)
                    await self._mark_crashed(
                        flow_run.id, "The runbook engine failed to run this flow."
                    )
            finally:
                self._claimed.discard(flow_run.id)
                if target_key(flow_run.tags) is not None:
                    self._wake.set()  # a run waiting for this target may go now

    def _execute(self, flow: Flow[..., Any], flow_run: FlowRun) -> State[Any] | None:
        assert self._settings is not None  # set by start
        # A fresh thread has no settings of its own; give it the engine's (its API URL).
        context = SettingsContext(profile=self._settings.profile, settings=self._settings.settings)
        runtime = use_runtime(self._runtime) if self._runtime else contextlib.nullcontext()
        with context, runtime:
            outcome = run_flow(flow, flow_run=flow_run, return_type="state")
            if inspect.iscoroutine(outcome):
                outcome = asyncio.run(outcome)
        return outcome if isinstance(outcome, State) else None

    async def _run_again(self, flow_run_id: UUID) -> None:
        """Reschedule a run whose execution here stopped because Prefect was unreachable.

        Its thread has ended, so nothing runs it: once Prefect answers, the run goes back to
        Scheduled (once, as a takeover does) and is claimed again; its steps are safe to run
        from the top (finished ones come back from their persisted results, each change
        re-observes first). A run Prefect holds as Paused or final is left as it is. Prefect
        still away after `PREFECT_BACK_WITHIN_SECONDS`: the run is marked as its engine gone,
        for another replica to take over.
        """
        client = self._require_client()
        deadline = time.monotonic() + PREFECT_BACK_WITHIN_SECONDS
        while not self._stopping and time.monotonic() < deadline:
            try:
                flow_run = await client.read_flow_run(flow_run_id)
                if flow_run.state is None or flow_run.state.type not in UNFINISHED_HERE:
                    return
                why = (
                    f"Prefect could not be reached while engine {ENGINE_NAME} ran this run; "
                    "it runs again from the top (finished steps are not repeated)"
                )
                if await reschedule_once(client, flow_run, engine=ENGINE_NAME, why=why):
                    self._wake.set()
                return
            except httpx.HTTPError:
                await asyncio.sleep(PREFECT_BACK_POLL_SECONDS)
        await self._mark_crashed(flow_run_id, SHUTDOWN_MESSAGE)

    async def _mark_crashed(self, flow_run_id: UUID, message: str) -> None:
        await mark_crashed(self._require_client(), flow_run_id, message)

    async def _poll_forever(self) -> None:
        while not self._stopping:
            try:
                await self.poll_once()
            except httpx.HTTPError as exc:
                logger.warning("polling Prefect for due runs failed: %r", exc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self._poll_interval)
            self._wake.clear()

    def _require_client(self) -> PrefectClient:
        if self._client is None:
            raise RuntimeError("WarmExecutor.start() was not awaited")
        return self._client
