"""A run marked Crashed or Cancelled from outside must stop acting, even if its thread runs on.

The unresponsive-run automation (`engine.execution.heartbeats`) marks a run Crashed when its
heartbeats stop arriving, e.g. during a long Prefect outage, while the engine may still be
executing it; an operator may cancel it too. Its target is then free for another run, and
another engine replica may have taken the run over (rescheduled and claimed it: Running again,
but in a state this execution did not set). So every change is preceded by one read of the
run's own state, which must be the Running state this execution entered.
"""

from __future__ import annotations

from uuid import UUID

from prefect.client.orchestration import SyncPrefectClient, get_client
from prefect.client.schemas.objects import StateType
from prefect.context import FlowRunContext
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
    own = _own_state_id()
    if state is None or (state.type is StateType.RUNNING and own in (None, state.id)):
        return
    if state.type is StateType.RUNNING:
        raise RunEndedError(
            f"flow run {run_id} was taken over by another engine (it runs there now, in a "
            "state this execution did not enter); nothing more is changed here"
        )
    raise RunEndedError(
        f"flow run {run_id} is {state.name} ({state.message or 'ended from outside'}); "
        "nothing more is changed"
    )


def _own_state_id() -> UUID | None:
    """The id of the state this execution of the run set last (its Running), if known."""
    context = FlowRunContext.get()
    if context is None or context.flow_run is None or context.flow_run.state is None:
        return None
    return context.flow_run.state.id
