"""A 503 says what is unavailable in a line of words, never the SQL or parameters behind it."""

from __future__ import annotations

from uuid import UUID

import pytest

from engine.handoff import HandoffUnavailableError, ResolvedAlert, RunHandle, RunRequest
from engine.intake.receiver import REASON_LIMIT, unavailable_reason
from tests.engine.memory_dispatcher import InMemoryDispatcher
from tests.engine.receiver_harness import receiver
from tests.integrations.alertmanager.samples import webhook_body

#: A run store passing Prefect's error on as it came: SQLAlchemy's text, alert data included.
RAW_SQLITE_LOCKED = (
    "(sqlite3.OperationalError) database is locked\n"
    "[SQL: INSERT INTO flow_run (flow_id, parameters, idempotency_key) "
    "VALUES (:flow_id, :parameters, :idempotency_key)]\n"
    "[parameters: {'flow_id': '0b1f9d6e-3c1a-4b7e-9a53-2f0d7c9e4a11', "
    '\'parameters\': \'{"namespace": "prod", "service": "checkout"}\', '
    "'idempotency_key': 'service-down:2999bd4522b9e922:2026-11-25T17:08:30.345340+00:00'}]\n"
    "(Background on this error at: https://sqlalche.me/e/20/e3q8)"
)
LEAKS = ("SQL:", "INSERT", "parameters", "checkout", "sqlalche.me")


class _RawErrorDispatcher(InMemoryDispatcher):
    """A run store that fails with Prefect's raw error text."""

    async def submit(self, request: RunRequest) -> RunHandle:
        raise HandoffUnavailableError(f"Prefect created no run: {RAW_SQLITE_LOCKED}")

    async def resolve(self, alert: ResolvedAlert) -> list[UUID]:
        raise HandoffUnavailableError(RAW_SQLITE_LOCKED)

    async def check_ready(self) -> None:
        raise HandoffUnavailableError(RAW_SQLITE_LOCKED)


async def test_a_run_store_failing_with_sql_answers_503_that_names_the_reason_without_it() -> None:
    async with receiver(dispatcher=_RawErrorDispatcher()) as engine:
        response = await engine.post(webhook_body("firing"))

    assert response.status_code == 503
    error = response.json()["error"]
    assert error == (
        "run store unavailable: Prefect created no run: "
        "(sqlite3.OperationalError) database is locked"
    )
    assert not any(leak in response.text for leak in LEAKS)


async def test_a_resolve_failing_with_sql_answers_503_without_it() -> None:
    async with receiver(dispatcher=_RawErrorDispatcher()) as engine:
        response = await engine.post(webhook_body("resolved"))

    assert response.status_code == 503
    assert not any(leak in response.text for leak in LEAKS)


async def test_readiness_names_a_run_store_failing_with_sql_without_it() -> None:
    async with receiver(dispatcher=_RawErrorDispatcher()) as engine:
        response = await engine.client.get("/readyz")

    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["run_store"] == "not ready: (sqlite3.OperationalError) database is locked"
    assert not any(leak in response.text for leak in LEAKS)


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        ("run store unreachable (simulated)", "run store unreachable (simulated)"),
        (RAW_SQLITE_LOCKED, "(sqlite3.OperationalError) database is locked"),
        (
            "the Prefect API is unreachable to check health: ConnectError: [Errno 111] refused",
            "the Prefect API is unreachable to check health: ConnectError",
        ),
        ("Traceback (most recent call last):\n  File 'x.py'", "Traceback (most recent call last)"),
        ("[SQL: INSERT INTO flow_run]", "no reason given"),
    ],
)
def test_unavailable_reason_quotes_one_line_and_nothing_from_a_bracket_on(
    message: str, reason: str
) -> None:
    assert unavailable_reason(HandoffUnavailableError(message)) == reason


def test_unavailable_reason_cuts_a_long_reason_short() -> None:
    said = unavailable_reason(HandoffUnavailableError("busy " * 100))

    assert len(said) == REASON_LIMIT
    assert said.endswith("...")
