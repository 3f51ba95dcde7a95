"""Small real flows the dispatcher and executor tests run: they record each execution."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass

from prefect import flow, task
from prefect.flow_runs import suspend_flow_run
from prefect.runtime import flow_run


@dataclass(frozen=True)
class Execution:
    """One execution of a sample flow's task, as seen from inside it."""

    marker: str
    flow_run_id: str
    thread_name: str


#: Every execution of the sample flows' tasks in this process (list.append is thread-safe).
EXECUTIONS: list[Execution] = []
#: Gates that `gated_flow` runs wait on, by marker; tests open them.
GATES: dict[str, threading.Event] = {}


def executions_of(marker: str) -> list[Execution]:
    """The recorded executions carrying ``marker``."""
    return [execution for execution in EXECUTIONS if execution.marker == marker]


@task
def record(marker: str) -> str:
    """Record that this task ran, in which run and on which thread."""
    EXECUTIONS.append(Execution(marker, str(flow_run.get_id()), threading.current_thread().name))
    return marker


@flow(name="engine-test-record")
def record_flow(marker: str, note: str = "default note") -> str:
    """Record one execution and return the marker."""
    return record(marker)


@flow(name="engine-test-record-async")
async def record_async_flow(marker: str) -> str:
    """The async twin of ``record_flow``."""
    await asyncio.sleep(0)
    return record(marker)


@flow(name="engine-test-gated")
def gated_flow(marker: str, wait_seconds: float = 30) -> str:
    """Record an execution, then wait (at most ``wait_seconds``) for the marker's gate to open."""
    record(marker)
    GATES.setdefault(marker, threading.Event()).wait(timeout=wait_seconds)
    return marker


@flow(name="engine-test-suspending")
def suspending_flow(marker: str) -> str:
    """Record an execution, then suspend the run (as an approval gate does) for ten minutes."""
    record(marker)
    suspend_flow_run(timeout=600)
    return marker
