"""Runs acting on the same target: the ``target:<concurrency_key>`` tag and whether it is busy."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Iterable
from uuid import UUID

from prefect.client.orchestration import PrefectClient
from prefect.client.schemas.filters import (
    FlowRunFilter,
    FlowRunFilterId,
    FlowRunFilterState,
    FlowRunFilterStateType,
    FlowRunFilterTags,
)
from prefect.client.schemas.objects import FlowRun, StateType

from engine.execution.keyed_locks import KeyedLocks
from flows.run_identity import target_tag

logger = logging.getLogger(__name__)


#: States of a run that holds its target: claimed (Pending), acting (Running), or still acting
#: until it notices it was cancelled (Cancelling). A run Suspended at its approval gate (Paused)
#: does not: nothing of it runs until it is answered, and it is then Scheduled again and waits
#: for its target like any other run.
BUSY_STATES = frozenset({StateType.PENDING, StateType.RUNNING, StateType.CANCELLING})


def busy_filter(concurrency_key: str, *, other_than: UUID) -> FlowRunFilter:
    """The runs other than ``other_than`` that hold ``concurrency_key``'s target now."""
    return FlowRunFilter(
        id=FlowRunFilterId(not_any_=[other_than]),
        tags=FlowRunFilterTags(all_=[target_tag(concurrency_key)]),
        state=FlowRunFilterState(type=FlowRunFilterStateType(any_=sorted(BUSY_STATES))),
    )


async def find_busy_run(
    client: PrefectClient, concurrency_key: str, *, other_than: UUID
) -> FlowRun | None:
    """A run other than ``other_than`` holding the target now (one API call), if any."""
    runs = await client.read_flow_runs(
        flow_run_filter=busy_filter(concurrency_key, other_than=other_than), limit=1
    )
    return runs[0] if runs else None


def deferral_message(flow_run: FlowRun, concurrency_key: str, busy: FlowRun) -> str:
    """Why a run is left Scheduled for now, for the log."""
    state = busy.state.name if busy.state is not None else "no state"
    return (
        f"flow run {flow_run.id} waits: target {concurrency_key!r} is busy with flow run "
        f"{busy.id} ({state}); the poller retries it"
    )


class TargetGate:
    """The executor's check before a claim: is the run's target busy? Logs each wait once.

    Attributes:
        waiting: Runs found waiting for a busy target and not claimed since.
    """

    def __init__(self) -> None:
        self._locks = KeyedLocks()
        self.waiting: set[UUID] = set()

    @contextlib.asynccontextmanager
    async def hold(self, concurrency_key: str | None) -> AsyncIterator[None]:
        """Serialize check-and-claim of one key in this process (``None``: no key, no wait)."""
        async with self._locks.hold(concurrency_key):
            yield

    async def is_busy(self, client: PrefectClient, flow_run: FlowRun, concurrency_key: str) -> bool:
        """Whether another run holds the target now; logs why the first time for a run."""
        busy = await find_busy_run(client, concurrency_key, other_than=flow_run.id)
        if busy is None:
            return False
        if flow_run.id not in self.waiting:
            self.waiting.add(flow_run.id)
            logger.info(deferral_message(flow_run, concurrency_key, busy))
        return True

    def claimed(self, flow_run_id: UUID) -> None:
        """Forget a run that was claimed."""
        self.waiting.discard(flow_run_id)

    def keep_only(self, scheduled: Iterable[UUID]) -> None:
        """Forget waiting runs no longer Scheduled (claimed elsewhere, or cancelled)."""
        self.waiting &= set(scheduled)
