"""The operator's terminal: log lines as text on a TTY and JSON elsewhere, and start-up progress."""

from __future__ import annotations

import contextlib
import io
import json
import logging
import uuid
from collections.abc import Iterator

import pytest
from prefect.client.schemas.objects import FlowRun, TaskRun
from prefect.logging.loggers import task_run_logger

from engine.intake.notifications import alert_fields
from engine.logs import Progress, Terminal, configure_logging
from engine.settings import LogFormat

RUN_ID = "0b7d9a52-51f4-4a44-9a0e-2b8e4b1f3c11"


class TtyStream(io.StringIO):
    """What a terminal looks like to the engine: a stream that says it is a TTY."""

    def isatty(self) -> bool:
        return True


class FakeClock:
    """Monotonic seconds that move only when a test says so."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now

    def fail_after(self, seconds: float, error: BaseException) -> None:
        """What a step that fails after `seconds` does."""
        self.now += seconds
        raise error


@contextlib.contextmanager
def logging_as(log_format: LogFormat, stream: io.StringIO) -> Iterator[Terminal]:
    """`configure_logging` for the duration; the root logger's own handlers come back after.

    Within one test phase, as pytest adds and removes its own capturing handler per phase.
    """
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        yield configure_logging(log_format, Terminal(stream))
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)


def log_run_created(**extra: object) -> None:
    logging.getLogger("engine.intake").info("run created", extra=extra)


def test_on_a_terminal_a_log_line_is_text_with_the_alert_and_its_flow_run() -> None:
    stream = TtyStream()
    with logging_as("auto", stream):
        log_run_created(**alert_fields("9f3c1a2b", flow_run_id=RUN_ID), flow_run_name="crimson-fox")

    [line] = stream.getvalue().splitlines()
    assert " INFO    run created  " in line
    assert line.endswith(f"fingerprint=9f3c1a2b run=crimson-fox run_id={RUN_ID}")
    assert line[:8].count(":") == 2  # starts with the time, HH:MM:SS


def test_a_prefect_task_line_names_its_task_as_well_as_its_flow_run() -> None:
    run = FlowRun(name="crimson-fox", flow_id=uuid.uuid4(), id=uuid.UUID(RUN_ID))
    task_run = TaskRun(flow_run_id=run.id, name="assess-4c1", task_key="assess", dynamic_key="0")
    # The fields Prefect's own task-run logger puts on every record it writes (logged here
    # without its API handler, which would send it to a Prefect server).
    message, fields = task_run_logger(task_run, flow_run=run).process("Finished", {})
    stream = io.StringIO()
    with logging_as("text", stream):
        logging.getLogger("engine.flows").info(message, **fields)

    [line] = stream.getvalue().splitlines()
    assert line.endswith(f"Finished  run=crimson-fox task=assess-4c1 run_id={RUN_ID}")


def test_a_text_line_leaves_out_the_fields_a_record_does_not_carry() -> None:
    stream = TtyStream()
    with logging_as("text", stream):
        log_run_created(**alert_fields("9f3c1a2b"))  # no flow run yet: its id is None
        logging.getLogger("engine").warning("polling Prefect failed")

    first, second = stream.getvalue().splitlines()
    assert first.endswith("run created  fingerprint=9f3c1a2b")
    assert second.endswith("WARNING polling Prefect failed")


def test_a_text_line_says_what_failed_and_shows_the_traceback() -> None:
    stream = io.StringIO()
    with logging_as("text", stream):
        try:
            raise RuntimeError("Prefect API unreachable")
        except RuntimeError:
            logging.getLogger("engine").exception(
                "run store unavailable", extra=alert_fields("9f3c1a2b", error="timed out")
            )

    lines = stream.getvalue().splitlines()
    assert lines[0].endswith("run store unavailable  fingerprint=9f3c1a2b error=timed out")
    assert lines[-1] == "RuntimeError: Prefect API unreachable"


def test_off_a_terminal_log_lines_are_json_with_every_extra_field() -> None:
    stream = io.StringIO()
    with logging_as("auto", stream):
        log_run_created(**alert_fields("9f3c1a2b", flow_run_id=RUN_ID, runbook="service-down"))

    [line] = stream.getvalue().splitlines()
    document = json.loads(line)
    assert document["message"] == "run created"
    assert (document["fingerprint"], document["flow_run_id"]) == ("9f3c1a2b", RUN_ID)
    assert document["runbook"] == "service-down"


@pytest.mark.parametrize(
    ("log_format", "tty", "json_lines"),
    [
        ("auto", True, False),
        ("auto", False, True),
        ("text", False, False),
        ("json", True, True),
    ],
)
def test_the_log_format_setting_chooses_text_or_json_and_auto_asks_the_terminal(
    log_format: LogFormat, tty: bool, json_lines: bool
) -> None:
    stream = TtyStream() if tty else io.StringIO()
    with logging_as(log_format, stream):
        log_run_created(**alert_fields("9f3c1a2b"))

    assert stream.getvalue().startswith("{") is json_lines


def test_a_finished_step_off_a_terminal_is_one_plain_line_with_its_time() -> None:
    stream, clock = io.StringIO(), FakeClock()
    progress = Progress(Terminal(stream), clock=clock)

    with progress.step("starting Prefect server", done="ready"):
        assert stream.getvalue() == ""  # nothing half-written in a CI log
        clock.now += 11.2
    with progress.step("registering 6 deployments"):
        clock.now += 2.04

    assert stream.getvalue() == (
        "starting Prefect server… ready in 11 s\nregistering 6 deployments… done in 2.0 s\n"
    )


def test_on_a_terminal_a_step_shows_at_once_ticks_and_ends_in_place() -> None:
    stream, clock = TtyStream(), FakeClock()
    progress = Progress(Terminal(stream), clock=clock, tick_seconds=None)

    step = progress.start("starting the simulated cluster (10 nodes)")
    assert stream.getvalue().endswith("starting the simulated cluster (10 nodes)…")
    clock.now += 3
    step.redraw()
    assert stream.getvalue().endswith("\r\x1b[Kstarting the simulated cluster (10 nodes)… 3.0 s")
    clock.now += 1
    step.finish("ready on https://127.0.0.1:6443")

    last = stream.getvalue().rsplit("\r\x1b[K", 1)[-1]
    assert (
        last
        == "starting the simulated cluster (10 nodes)… ready on https://127.0.0.1:6443 in 4.0 s\n"
    )


def test_a_log_line_written_during_a_step_goes_above_its_unfinished_line() -> None:
    stream = TtyStream()
    with (
        logging_as("text", stream) as terminal,
        Progress(terminal, clock=FakeClock(), tick_seconds=None).step("registering 6 deployments"),
    ):
        logging.getLogger("engine").warning("RUNBOOKS_SLACK_APPROVERS is empty")
        logged, redrawn = stream.getvalue().split("\n")[-2:]
        assert logged.startswith("\r\x1b[K")
        assert logged.endswith("RUNBOOKS_SLACK_APPROVERS is empty")
        assert redrawn == "registering 6 deployments…"


def test_a_step_that_raises_ends_failed_and_an_interrupted_one_says_so() -> None:
    stream, clock = io.StringIO(), FakeClock()
    progress = Progress(Terminal(stream), clock=clock)

    with pytest.raises(RuntimeError), progress.step("starting Prefect server"):
        clock.fail_after(12, RuntimeError("exited"))
    with pytest.raises(KeyboardInterrupt), progress.step("registering 6 deployments"):
        clock.fail_after(0, KeyboardInterrupt())

    assert stream.getvalue().splitlines() == [
        "starting Prefect server… failed after 12 s",
        "registering 6 deployments… interrupted after 0.0 s",
    ]
