"""A run ended from outside (marked Crashed, as the unresponsive-run automation does) stops
acting; a Running run goes on. Against the session's real Prefect server."""

from __future__ import annotations

from uuid import UUID

import pytest
from prefect import flow
from prefect.client.orchestration import SyncPrefectClient, get_client
from prefect.runtime import flow_run
from prefect.states import Crashed, Running

from flows.run_guard import RunEndedError, ensure_run_active

SEEN: list[str] = []


@flow(name="guard-test-live")
def live_run() -> None:
    """Check, as a mutating task does, while Running."""
    ensure_run_active()
    SEEN.append("acted")


@flow(name="guard-test-crashed")
def crashed_run() -> None:
    """Get marked Crashed from outside while still executing, then check."""
    client: SyncPrefectClient
    with get_client(sync_client=True) as client:
        client.set_flow_run_state(
            UUID(flow_run.get_id()), Crashed(message="No heartbeat for 120s"), force=True
        )
    try:
        ensure_run_active()
    except RunEndedError as error:
        SEEN.append(str(error))
        return
    SEEN.append("acted")


@flow(name="guard-test-taken-over")
def taken_over_run() -> None:
    """Another engine reschedules and claims this run while this execution still runs."""
    client: SyncPrefectClient
    with get_client(sync_client=True) as client:
        client.set_flow_run_state(
            UUID(flow_run.get_id()), Running(message="Claimed by engine b/2"), force=True
        )
    try:
        ensure_run_active()
    except RunEndedError as error:
        SEEN.append(str(error))
        return
    SEEN.append("acted")


@pytest.fixture(autouse=True)
def forget(prefect_api_url: str) -> None:
    """Each test sees only what its own run recorded."""
    SEEN.clear()


def test_a_running_run_may_act() -> None:
    live_run()

    assert SEEN == ["acted"]


def test_a_run_marked_crashed_from_outside_changes_nothing_more() -> None:
    crashed_run(return_state=True)

    [said] = SEEN
    assert "is Crashed (No heartbeat for 120s); nothing more is changed" in said


def test_outside_a_flow_run_there_is_nothing_to_check() -> None:
    ensure_run_active()


def test_a_run_another_engine_took_over_changes_nothing_more_here() -> None:
    taken_over_run(return_state=True)

    [said] = SEEN
    assert "was taken over by another engine" in said
