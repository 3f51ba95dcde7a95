"""What the engine's terminal shows: log lines (text for people, JSON for collectors), progress."""

from __future__ import annotations

import contextlib
import logging
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any, TextIO

import orjson

from engine.settings import LogFormat

# Attributes every LogRecord has; anything else on a record came in through `extra=`.
_STANDARD_ATTRIBUTES = frozenset(
    logging.LogRecord("", 0, "", 0, "", None, None).__dict__.keys() | {"message", "asctime"}
)

#: The ``extra`` fields a text line shows, with their labels: which alert, flow run and task
#: it is about (`engine.intake.notifications.alert_fields`, Prefect's run loggers: a task's
#: "Finished in state Completed()" says nothing without its task) and what failed.
TEXT_FIELDS = (
    ("fingerprint", "fingerprint"),
    ("flow_run_name", "run"),
    ("task_run_name", "task"),
    ("flow_run_id", "run_id"),
    ("error", "error"),
)

# Back to the line's start and erase it: how a terminal redraws the unfinished progress line.
_REDRAW = "\r\x1b[K"


class JsonLinesFormatter(logging.Formatter):
    """Format each record as one JSON object: time, level, logger, message and ``extra`` fields."""

    def format(self, record: logging.LogRecord) -> str:
        """Render `record` as a JSON line (without the newline)."""
        document: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD_ATTRIBUTES and not key.startswith("_"):
                document[key] = value
        if record.exc_info:
            document["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(document, default=str).decode()


class TextFormatter(logging.Formatter):
    """Format each record as a line a person reads: local time, level, message, alert and run."""

    def format(self, record: logging.LogRecord) -> str:
        """Render `record` as ``HH:MM:SS LEVEL message  fingerprint=… run=… run_id=…``."""
        when = datetime.fromtimestamp(record.created).strftime("%H:%M:%S")
        line = f"{when} {record.levelname:<7} {record.getMessage()}"
        fields = [
            f"{label}={value}"
            for key, label in TEXT_FIELDS
            if (value := record.__dict__.get(key)) not in (None, "")
        ]
        if fields:
            line += "  " + " ".join(fields)
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        if record.stack_info:
            line += "\n" + self.formatStack(record.stack_info)
        return line


def _is_tty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # no such method, or the stream is closed
        return False


class Terminal:
    """The stream log lines and progress share; on a TTY, log lines go above the progress line.

    Only a TTY gets an unfinished line (redrawn in place); elsewhere every write is a whole
    line, so a CI log reads like the terminal once each step finished.
    """

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.is_tty = _is_tty(stream)
        self._lock = threading.Lock()
        self._status = ""

    def write_line(self, text: str) -> None:
        """Write `text` as whole line(s), above the unfinished progress line if one is shown."""
        with self._lock:
            if self._status:
                self.stream.write(_REDRAW)
            self.stream.write(text + "\n")
            if self._status:
                self.stream.write(self._status)
            self.stream.flush()

    def show_status(self, text: str) -> None:
        """On a TTY, (re)draw `text` as the unfinished last line; elsewhere do nothing."""
        if not self.is_tty:
            return
        with self._lock:
            self.stream.write(_REDRAW + text)
            self.stream.flush()
            self._status = text

    def end_status(self, text: str) -> None:
        """Write `text` as a whole line in place of the unfinished one (if any)."""
        with self._lock:
            if self._status:
                self.stream.write(_REDRAW)
                self._status = ""
            self.stream.write(text + "\n")
            self.stream.flush()


class TerminalHandler(logging.Handler):
    """Write formatted records to a `Terminal`, so they never land inside a progress line."""

    def __init__(self, terminal: Terminal) -> None:
        super().__init__()
        self.terminal = terminal

    def emit(self, record: logging.LogRecord) -> None:
        """Write `record` as its own line(s)."""
        try:
            self.terminal.write_line(self.format(record))
        except Exception:  # noqa: BLE001 - as StreamHandler: a bad record must not stop the engine
            self.handleError(record)


def uses_text(log_format: LogFormat, terminal: Terminal) -> bool:
    """Whether `log_format` means text lines on `terminal` (``auto``: when it is a TTY)."""
    return log_format == "text" or (log_format == "auto" and terminal.is_tty)


def configure_logging(
    log_format: LogFormat = "auto", terminal: Terminal | None = None, level: int = logging.INFO
) -> Terminal:
    """Send the root logger's records to `terminal` (stderr) as text or JSON lines.

    Returns:
        The terminal written to, for progress lines to share.
    """
    terminal = terminal or Terminal(sys.stderr)
    handler = TerminalHandler(terminal)
    formatter = TextFormatter() if uses_text(log_format, terminal) else JsonLinesFormatter()
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # One line per HTTP request the Prefect client makes would drown what the engine says.
    for chatty in ("httpx", "httpcore"):
        logging.getLogger(chatty).setLevel(max(level, logging.WARNING))
    return terminal


def configure_json_logging(level: int = logging.INFO, stream: TextIO | None = None) -> None:
    """Send the root logger's records to `stream` (stderr) as JSON lines."""
    configure_logging("json", Terminal(stream or sys.stderr), level)


def seconds(elapsed: float) -> str:
    """A duration as a person reads it at a glance: ``0.4 s``, ``11 s``."""
    return f"{elapsed:.1f} s" if elapsed < 10 else f"{elapsed:.0f} s"


class Step:
    """One start-up step: an open line (ticking on a TTY) until `finish` ends it with its time."""

    def __init__(self, terminal: Terminal, doing: str, *, clock: Callable[[], float]) -> None:
        self.doing = doing
        #: What the line ends with when the step succeeds (e.g. ``ready on https://…``).
        self.outcome = "done"
        self._terminal = terminal
        self._clock = clock
        self._started = clock()
        self._finished = False
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None

    def elapsed(self) -> float:
        """Seconds since the step started."""
        return max(0.0, self._clock() - self._started)

    def redraw(self) -> None:
        """Show the step as under way, with its time so far (on a TTY; elsewhere nothing)."""
        if not self._finished:
            self._terminal.show_status(f"{self.doing}… {seconds(self.elapsed())}")

    def tick_every(self, interval: float) -> None:
        """Redraw every `interval` seconds from a thread of its own, until `finish`."""

        def tick() -> None:
            while not self._stop.wait(interval):
                self.redraw()

        self._ticker = threading.Thread(target=tick, name="startup-progress", daemon=True)
        self._ticker.start()

    def finish(self, outcome: str | None = None, *, word: str = "in") -> None:
        """End the line: ``doing… outcome in 11 s`` (a no-op once finished)."""
        if self._finished:
            return
        self._finished = True
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join()
        ending = outcome or self.outcome
        self._terminal.end_status(f"{self.doing}… {ending} {word} {seconds(self.elapsed())}")


class Progress:
    """What ``runbooks up`` is doing while it starts: one short line per step with its duration.

    On a TTY each step's line is drawn when it starts and ticks until it ends; elsewhere the
    finished line alone is written, without carriage returns.

    Args:
        terminal: Where the lines go (shared with the log, see `configure_logging`).
        clock: Monotonic seconds.
        tick_seconds: How often a TTY's open line shows the time so far; None: never.
    """

    def __init__(
        self,
        terminal: Terminal,
        *,
        clock: Callable[[], float] = time.monotonic,
        tick_seconds: float | None = 1.0,
    ) -> None:
        self._terminal = terminal
        self._clock = clock
        self._tick_seconds = tick_seconds

    def start(self, doing: str) -> Step:
        """Start a step; the caller ends it with `Step.finish`."""
        step = Step(self._terminal, doing, clock=self._clock)
        self._terminal.show_status(f"{doing}…")
        if self._terminal.is_tty and self._tick_seconds is not None:
            step.tick_every(self._tick_seconds)
        return step

    @contextlib.contextmanager
    def step(self, doing: str, *, done: str = "done") -> Iterator[Step]:
        """A step for the duration: ends ``done`` (or the step's `Step.outcome`), else failed.

        Ctrl-C and SIGTERM (BaseExceptions, as `engine.signals.StopRequested`) end it
        ``interrupted`` rather than ``failed``; ``sys.exit`` (as uvicorn's failed start) fails.
        """
        step = self.start(doing)
        step.outcome = done
        try:
            yield step
        except (Exception, SystemExit):
            step.finish("failed", word="after")
            raise
        except BaseException:
            step.finish("interrupted", word="after")
            raise
        step.finish()
