"""Receiver logs are JSON lines; every line about an alert names its fingerprint and flow run."""

from __future__ import annotations

import io
import json
import logging
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from engine.intake.rejection_log import RejectionLogGate
from engine.logs import JsonLinesFormatter, configure_json_logging
from tests.engine.receiver_harness import receiver
from tests.integrations.alertmanager.samples import webhook_body


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonLinesFormatter())
    logger = logging.getLogger("engine.intake.receiver")
    logger.addHandler(handler)
    previous = logger.level
    logger.setLevel(logging.INFO)
    yield stream
    logger.removeHandler(handler)
    logger.setLevel(previous)


def _parse(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


async def test_every_line_about_an_alert_carries_fingerprint_and_flow_run_id(
    log_lines: io.StringIO,
) -> None:
    async with receiver() as engine:
        created = await engine.post(webhook_body("firing"))
        await engine.post(webhook_body("resolved"))
    run_id = created.json()["alerts"][0]["flow_run_id"]

    lines = _parse(log_lines)

    assert [line["message"] for line in lines] == [
        "alert received",
        "run created",
        "alert received",
        "alert resolved; run told",
    ]
    assert all(line["fingerprint"] == "2999bd4522b9e922" for line in lines)
    assert [line["flow_run_id"] for line in lines] == [None, run_id, None, run_id]
    assert lines[1]["runbook"] == "service-down"
    assert lines[0]["labels"]["service"] == "checkout"
    assert {line["level"] for line in lines} == {"info"}
    assert all(line["logger"] == "engine.intake.receiver" for line in lines)


async def test_a_handoff_failure_is_logged_with_the_alert_it_concerns(
    log_lines: io.StringIO,
) -> None:
    async with receiver() as engine:
        engine.dispatcher.unavailable = True
        await engine.post(webhook_body("firing"))

    [failure] = [line for line in _parse(log_lines) if line["level"] == "warning"]

    assert failure["fingerprint"] == "2999bd4522b9e922"
    assert failure["flow_run_id"] is None
    assert failure["error"] == "run store unreachable (simulated)"


def test_the_formatter_renders_exceptions_and_odd_values_as_json() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        failure = sys.exc_info()
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed %s", ("once",), failure)
    record.__dict__["when"] = object()

    line = json.loads(JsonLinesFormatter().format(record))

    assert line["message"] == "failed once"
    assert line["level"] == "error"
    assert "ValueError: boom" in line["exception"]
    assert line["when"].startswith("<object object")


@pytest.mark.parametrize(
    ("events", "logged"),
    [
        # (seconds since start, group, reason) -> whether it is logged
        ([(0, "g1", "invalid_payload"), (60, "g1", "invalid_payload")], [True, False]),
        ([(0, "g1", "invalid_payload"), (60, "g2", "invalid_payload")], [True, True]),
        ([(0, "g1", "invalid_payload"), (60, "g1", "too_large")], [True, True]),
        ([(0, "g1", "invalid_payload"), (3600, "g1", "invalid_payload")], [True, True]),
        (
            [(0, "g1", "r"), (10, "g1", "r"), (3599, "g1", "r"), (3601, "g1", "r")],
            [True, False, False, True],
        ),
    ],
)
def test_the_rejection_gate_logs_a_group_and_reason_once_per_window(
    events: list[tuple[float, str, str]], logged: list[bool]
) -> None:
    now = [0.0]
    gate = RejectionLogGate(lambda: now[0], window_seconds=3600)

    decisions = []
    for at, group, reason in events:
        now[0] = at
        decisions.append(gate.should_log(group, reason))

    assert decisions == logged


def test_the_rejection_gate_forgets_the_oldest_groups_past_its_capacity() -> None:
    gate = RejectionLogGate(lambda: 0.0, capacity=2)
    for group in ("a", "b", "c"):
        assert gate.should_log(group, "r")

    assert gate.should_log("a", "r") is True
    assert gate.should_log("c", "r") is False


def test_json_logging_can_be_switched_on_for_the_whole_process() -> None:
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    stream = io.StringIO()
    try:
        configure_json_logging(logging.INFO, stream)
        logging.getLogger("engine.anything").info(
            "run created", extra={"fingerprint": "f", "flow_run_id": "r"}
        )
    finally:
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)

    [line] = _parse(stream)
    assert line["message"] == "run created"
    assert (line["fingerprint"], line["flow_run_id"]) == ("f", "r")
