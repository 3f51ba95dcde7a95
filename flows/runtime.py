"""What flows act through: one typed runtime, installed by the engine or built from the environment.

The engine (the composition root) calls `install_runtime` at startup; a flow run under a plain
Prefect worker finds nothing installed and builds the runtime from ``RUNBOOKS_*`` settings.
Nothing else in `flows` keeps process-wide state.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol, TypeVar

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from flows.approval.notifier import LogNotifier, Notifier
from flows.approval.slack import SlackNotifier
from integrations.alertmanager import AlertmanagerClient, AlertmanagerError
from integrations.kubernetes import Kube, KubeConnection, connect
from integrations.slack import SlackChannel, SlackCredentials
from integrations.slack.credentials import SLACK_API_URL

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
        for source in (self.alertmanager, self.record):
            count = None if source is None else source.count_firing(alertname, excluding=excluding)
            if count is not None:
                return count
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


class RuntimeSettings(BaseSettings):
    """The ``RUNBOOKS_*`` settings a flow needs when no engine installed a runtime."""

    model_config = SettingsConfigDict(env_prefix="RUNBOOKS_", extra="ignore")

    kubeconfig: Path | None = None
    kube_context: str | None = None
    kube_url: str | None = None
    kube_token: SecretStr | None = None
    alertmanager_url: str | None = None
    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_channel: str | None = None
    slack_api_url: str = SLACK_API_URL
    backup_dir: Path | None = None

    def connection(self) -> KubeConnection:
        """The Kubernetes connection these settings name (discovery fills the gaps)."""
        return KubeConnection(
            kubeconfig=self.kubeconfig,
            context=self.kube_context,
            url=self.kube_url,
            token=self.kube_token,
        )

    def notifier(self) -> Notifier:
        """Slack when the engine's Slack settings are set (its buttons call the engine back),
        else the log."""
        if not (self.slack_bot_token and self.slack_signing_secret and self.slack_channel):
            return LogNotifier()
        credentials = SlackCredentials(
            bot_token=self.slack_bot_token,
            signing_secret=self.slack_signing_secret,
            channel=self.slack_channel,
            api_url=self.slack_api_url,
        )
        return SlackNotifier(SlackChannel(credentials.get_client(), credentials.channel))


def runtime_from_settings(settings: RuntimeSettings) -> FlowRuntime:
    """The fallback runtime: Kubernetes, Alertmanager and the notifier from settings."""
    connection = settings.connection()
    alertmanager = (
        AlertmanagerChecker(settings.alertmanager_url) if settings.alertmanager_url else None
    )
    return FlowRuntime(
        kube_factory=lambda: connect(connection),
        alerts=AlertSources(alertmanager=alertmanager),
        notifier=settings.notifier(),
        backup_dir=settings.backup_dir,
    )


class _RuntimeSlot:
    """The one place the process's runtime is kept."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._runtime: FlowRuntime | None = None

    def install(self, runtime: FlowRuntime | None) -> None:
        with self._lock:
            self._runtime = runtime

    def get(self) -> FlowRuntime:
        with self._lock:
            if self._runtime is None:
                self._runtime = runtime_from_settings(RuntimeSettings())
            return self._runtime


_SLOT = _RuntimeSlot()


def install_runtime(runtime: FlowRuntime | None) -> None:
    """Make `runtime` the one flows use in this process (None: fall back to the environment)."""
    _SLOT.install(runtime)


def current_runtime() -> FlowRuntime:
    """The installed runtime, or one built from ``RUNBOOKS_*`` settings on first use."""
    return _SLOT.get()
