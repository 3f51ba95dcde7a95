"""Prefect's failures in words: one short line, never its SQL or the alert data in it."""

from __future__ import annotations

import pytest

from engine.dispatch.prefect_errors import REASON_LIMIT, prefect_reason

SQLITE_LOCKED = (
    "(sqlite3.OperationalError) database is locked\n"
    "[SQL: INSERT INTO flow_run (flow_id, deployment_id, parameters, idempotency_key, context, "
    "id, created, updated) VALUES (:flow_id, :deployment_id, :parameters, :idempotency_key, "
    ":context, :id, :created, :updated) ON CONFLICT (flow_id, idempotency_key) DO NOTHING]\n"
    "[parameters: {'flow_id': '0b1f9d6e-3c1a-4b7e-9a53-2f0d7c9e4a11', 'parameters': "
    '\'{"namespace": "prod", "service": "checkout"}\', \'idempotency_key\': '
    "'service-down:2999bd4522b9e922:2026-11-25T17:08:30.345340+00:00'}]\n"
    "(Background on this error at: https://sqlalche.me/e/20/e3q8)"
)
POSTGRES_DEADLOCK = (
    "(sqlalchemy.dialects.postgresql.asyncpg.Error) <class "
    "'asyncpg.exceptions.DeadlockDetectedError'>: deadlock detected\n"
    "DETAIL:  Process 4242 waits for ShareLock on transaction 77; blocked by process 4343.\n"
    "[SQL: INSERT INTO flow_run (idempotency_key) VALUES ($1::VARCHAR)]\n"
    "[parameters: ('service-down:2999bd4522b9e922:2026-11-25T17:08:30.345340+00:00',)]\n"
    "(Background on this error at: https://sqlalche.me/e/20/dbapi)"
)
LEAKS = ("SQL:", "INSERT", "parameters", "checkout", "sqlalche.me", "\n")


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (SQLITE_LOCKED, "the database is busy (SQLite locked)"),
        (SQLITE_LOCKED.replace("\n", " "), "the database is busy (SQLite locked)"),
        (POSTGRES_DEADLOCK, "the database broke a deadlock between writers"),
        (
            "QueuePool limit of size 5 overflow 10 reached, connection timed out, timeout 30.00 "
            "(Background on this error at: https://sqlalche.me/e/20/3o7r)",
            "the database timed out",
        ),
        (
            SQLITE_LOCKED.replace("database is locked", "disk I/O error"),
            "the database failed: disk I/O error",
        ),
        (
            "Parameter validation failed for flow 'service-checklist': 'pod' is required",
            "Parameter validation failed for flow 'service-checklist': 'pod' is required",
        ),
        (
            "Traceback (most recent call last):\n  File 'x.py', line 1",
            "Traceback (most recent call last):",
        ),
        ("", "no reason given"),
    ],
)
def test_prefect_reason_says_why_in_a_line_and_never_quotes_sql_or_parameters(
    error: str, reason: str
) -> None:
    said = prefect_reason(error)

    assert said == reason
    assert not any(leak in said for leak in LEAKS)


def test_prefect_reason_cuts_a_long_reason_short() -> None:
    said = prefect_reason("refused: " + "x" * 1000)

    assert len(said) == REASON_LIMIT
    assert said.endswith("...")
