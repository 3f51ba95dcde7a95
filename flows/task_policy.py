"""How every flow's tasks retry and key their persisted results."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any, Final

from prefect import Task
from prefect.client.schemas.objects import State, TaskRun
from prefect.context import TaskRunContext

from integrations.kubernetes import TransientKubeError

TASK_RETRY_DELAYS_SECONDS = [10.0, 20.0, 40.0]
"""Waits before each task retry: with the client's own retries inside every attempt, a step
rides out about a minute and a half of API server outage (a control-plane restart, a
leader election) before it fails."""
TASK_RETRIES = len(TASK_RETRY_DELAYS_SECONDS)


def retry_on_transient(task: Task[..., Any], task_run: TaskRun, state: State[Any]) -> bool:
    """Retry a task only when it failed on a transient Kubernetes API error."""
    del task, task_run
    return isinstance(state.result(raise_on_failure=False), TransientKubeError)


RETRIED_ON_TRANSIENT: Final[Mapping[str, Any]] = {
    "retries": TASK_RETRIES,
    "retry_delay_seconds": TASK_RETRY_DELAYS_SECONDS,
    "retry_condition_fn": retry_on_transient,
}
"""The retry arguments of every step that talks to the Kubernetes API: ``@task(**...)``."""


def run_scoped_key(context: TaskRunContext, name: str, *, flow: str) -> str:
    """A persisted result's key, unique to the flow run and the step ``name``.

    A run re-run from the top after its approval gets each step's first result back under it,
    instead of acting again.
    """
    digest = hashlib.sha256(f"{context.task_run.flow_run_id}/{name}".encode()).hexdigest()
    return f"{flow}-{digest[:40]}"
