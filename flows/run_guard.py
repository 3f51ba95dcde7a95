"""A run marked Crashed or Cancelled from outside must stop acting, even if its thread runs on.

The unresponsive-run automation (`engine.unresponsive_runs`) marks a run Crashed when its
heartbeats stop arriving, e.g. during a long Prefect outage, while the engine may still be
executing it; an operator may cancel it too. Its target is then free for another run, so every
change is preceded by one read of the run's own state.
"""

from __future__ import annotations

from uuid import UUID

from prefect.client.orchestration import SyncPrefectClient, get_client
from prefect.client.schemas.objects import StateType
from prefect.runtime import flow_run


class RunEndedError(RuntimeError):
    """This flow run was ended from outside; it must change nothing more."""


def ensure_run_active() -> None:
    """Raise unless the current flow run is still Running (outside a flow run: no check).

    Raises:
        RunEndedError: the run is Crashed, Cancelled, Cancelling or otherwise not Running.
    """
    run_id = flow_run.get_id()
    if run_id is None:
        return
    client: SyncPrefectClient
    with get_client(sync_client=True) as client:
        state = client.read_flow_run(UUID(run_id)).state
    if state is None or state.type is StateType.RUNNING:
        return
    raise RunEndedError(
        f"flow run {run_id} is {state.name} ({state.message or 'ended from outside'}); "
        "nothing more is changed"
    )
