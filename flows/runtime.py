"""What flows act through: one typed runtime per run, given by the engine or built from settings.

The engine's executor runs each flow run inside `use_runtime`; a flow run under a plain Prefect
worker is given none and builds its runtime from ``RUNBOOKS_*`` settings (`flows.settings`).
Nothing else in `flows` keeps process-wide state.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import functools
import time
from collections.abc import Callable, Coroutine, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol, TypeVar

from flows.approval.notifier import LogNotifier, Notifier
from flows.approval.slack import SlackNotifier
from flows.settings import FlowSettings
from integrations.alertmanager import AlertmanagerClient, AlertmanagerError
from integrations.kubernetes import Kube, connect
from integrations.slack import SlackChannel

T = TypeVar("T")


class Clock(Protocol):
    """Wall-clock time for records, monotonic time and sleeping for waits."""

    def now(self) -> datetime:
        """The current time, timezone-aware."""
        ...

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back."""
        ...

    def sleep(self, seconds: float) -> None:
        """Wait `seconds`."""
        ...


class SystemClock:
    """The real clock."""

    def now(self) -> datetime:
        """The current UTC time."""
        return datetime.now(UTC)

    def monotonic(self) -> float:
        """``time.monotonic()``."""
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        """``time.sleep``."""
        time.sleep(seconds)


class AlertStatus(StrEnum):
    """What a source says about an alert episode."""

    FIRING = "firing"
    RESOLVED = "resolved"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class AlertRef:
    """One alert episode: Alertmanager's fingerprint and when it started firing."""

    fingerprint: str
    starts_at: datetime | None = None
    alertname: str | None = None


class AlertChecker(Protocol):
    """A source that can tell whether an alert episode still fires, and how many others do."""

    def status(self, alert: AlertRef) -> AlertStatus:
        """FIRING, RESOLVED, or UNKNOWN when the source cannot tell (or is unreachable)."""
        ...

    def count_firing(self, alertname: str, *, excluding: str | None = None) -> int | None:
        """How many alerts called `alertname` fire now, not counting the fingerprint `excluding`.

        None when the source cannot tell (or is unreachable).
        """
        ...


def run_coroutine(factory: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run an async call from synchronous flow code, on a thread of its own if a loop runs here."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(factory())
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(factory())).result()


class AlertmanagerChecker:
    """Asks Alertmanager's API whether the alert is still listed (i.e. not resolved)."""

    def __init__(self, base_url: str, *, timeout: float = 5.0) -> None:
        """Check alerts on the Alertmanager at `base_url`."""
        self._base_url = base_url
        self._timeout = timeout

    def status(self, alert: AlertRef) -> AlertStatus:
        """FIRING while Alertmanager lists the fingerprint; UNKNOWN when it cannot be asked."""

        async def ask() -> bool:
            async with AlertmanagerClient(self._base_url, timeout=self._timeout) as client:
                labels = {"alertname": alert.alertname} if alert.alertname else None
                return await client.is_firing(alert.fingerprint, labels=labels)

        try:
            firing = run_coroutine(ask)
        except AlertmanagerError:
            return AlertStatus.UNKNOWN
        return AlertStatus.FIRING if firing else AlertStatus.RESOLVED

    def count_firing(self, alertname: str, *, excluding: str | None = None) -> int | None:
        """Alerts of that name Alertmanager lists (silenced ones too: they still fire)."""

        async def ask() -> set[str]:
            async with AlertmanagerClient(self._base_url, timeout=self._timeout) as client:
                listed = await client.alerts(filter=[f'alertname="{alertname}"'], active=True)
                return {alert.fingerprint for alert in listed}

        try:
            fingerprints = run_coroutine(ask)
        except AlertmanagerError:
            return None
        return sum(1 for fingerprint in fingerprints if fingerprint != excluding)


@dataclass(frozen=True, slots=True)
class FiringCount:
    """How many other alerts of a name fire, and whether Alertmanager confirmed it.

    Attributes:
        count: Other alerts of the name.
        confirmed: Alertmanager's API listed them as firing. False: the receiver's record
            counted recent alert runs with no resolution recorded, which a lost resolved
            notification leaves counted though the alert stopped long ago.
    """

    count: int
    confirmed: bool


@dataclass(frozen=True, slots=True)
class AlertSources:
    """The receiver's record of resolutions and Alertmanager's API, either one optional.

    Attributes:
        record: The receiver's record (knows only resolutions it was told of).
        alertmanager: Alertmanager's API, the authority on whether an alert still fires.
    """

    record: AlertChecker | None = None
    alertmanager: AlertChecker | None = None

    def status(self, alert: AlertRef) -> AlertStatus:
        """RESOLVED if any source says so; else FIRING if any says so; else UNKNOWN."""
        answers = [s.status(alert) for s in (self.record, self.alertmanager) if s is not None]
        if AlertStatus.RESOLVED in answers:
            return AlertStatus.RESOLVED
        return AlertStatus.FIRING if AlertStatus.FIRING in answers else AlertStatus.UNKNOWN

    def count_firing(self, alertname: str, *, excluding: str | None = None) -> int | None:
        """Other alerts of that name firing: Alertmanager's count, else the receiver's record's.

        None when neither can tell.
        """
        found = self.firing_elsewhere(alertname, excluding=excluding)
        return None if found is None else found.count

    def firing_elsewhere(
        self, alertname: str, *, excluding: str | None = None
    ) -> FiringCount | None:
        """Other alerts of that name firing, and whether Alertmanager confirms it (it is asked
        first); None when neither source can tell."""
        for source, confirmed in ((self.alertmanager, True), (self.record, False)):
            count = None if source is None else source.count_firing(alertname, excluding=excluding)
            if count is not None:
                return FiringCount(count=count, confirmed=confirmed)
        return None


@dataclass(frozen=True, kw_only=True)
class FlowRuntime:
    """Everything a flow acts through.

    Attributes:
        kube_factory: Opens a `Kube` (the caller closes it).
        alerts: Where flows re-check that their alert still fires.
        notifier: Told about approval requests and answers (Slack, or a log).
        clock: Time for records and waits.
        poll_interval_seconds: Pause between reads while waiting for the cluster to converge.
        backup_dir: Where the configuration backup flow writes (None: it refuses to run).
    """

    kube_factory: Callable[[], Kube]
    alerts: AlertSources = field(default_factory=AlertSources)
    notifier: Notifier = field(default_factory=LogNotifier)
    clock: Clock = field(default_factory=SystemClock)
    poll_interval_seconds: float = 0.5
    backup_dir: Path | None = None


def runtime_from_settings(settings: FlowSettings) -> FlowRuntime:
    """The runtime a flow builds for itself from ``RUNBOOKS_*`` settings (no engine around it).

    Slack when the Slack settings are set (its buttons call the engine back), else the log.
    """
    connection = settings.connection()
    alertmanager = (
        AlertmanagerChecker(settings.alertmanager_url) if settings.alertmanager_url else None
    )
    credentials = settings.slack_credentials()
    notifier: Notifier = (
        LogNotifier()
        if credentials is None
        else SlackNotifier(SlackChannel(credentials.get_client(), credentials.channel))
    )
    return FlowRuntime(
        kube_factory=lambda: connect(connection),
        alerts=AlertSources(alertmanager=alertmanager),
        notifier=notifier,
        backup_dir=settings.backup_dir,
    )


#: The runtime of the flow run in this context: set per run by whoever runs it (the engine's
#: executor, a test), so two runs in one process never see each other's.
_CURRENT: ContextVar[FlowRuntime | None] = ContextVar("runbooks_flow_runtime", default=None)


@contextlib.contextmanager
def use_runtime(runtime: FlowRuntime) -> Iterator[FlowRuntime]:
    """Run what happens inside the block (a flow run and its tasks) with ``runtime``.

    Prefect copies the context into the threads it runs tasks on, so tasks see it too.
    """
    token = _CURRENT.set(runtime)
    try:
        yield runtime
    finally:
        _CURRENT.reset(token)


@functools.cache
def _environment_runtime() -> FlowRuntime:
    return runtime_from_settings(FlowSettings())


def current_runtime() -> FlowRuntime:
    """The runtime of this flow run; under a plain Prefect worker, one built from the environment.

    Raises:
        pydantic.ValidationError: no runtime was given and a ``RUNBOOKS_*`` setting is invalid
            (the message names the variable).
    """
    return _CURRENT.get() or _environment_runtime()
