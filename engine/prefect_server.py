"""A local Prefect server (embedded SQLite) as a subprocess, or the one PREFECT_API_URL names."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import TracebackType

import httpx

from engine.settings import DEFAULT_PREFECT_START_TIMEOUT

API_URL_VARIABLE = "PREFECT_API_URL"
HEADERS_VARIABLE = "PREFECT_CLIENT_CUSTOM_HEADERS"


#: Why a pod refuses to keep its Prefect state on its own disk, and the two ways out.
EMBEDDED_IN_CLUSTER = (
    "running in a Kubernetes pod without PREFECT_API_URL: a local Prefect on SQLite would keep "
    "the run history, the idempotency records and the waiting approvals inside this pod, lost "
    "at its next restart (and two replicas would not share them). Set PREFECT_API_URL to a "
    "Prefect server: deploy/overlays/with-prefect runs one on PostgreSQL, "
    "deploy/overlays/external-prefect uses Prefect's Helm chart. For a throwaway install, "
    "set RUNBOOKS_ALLOW_EMBEDDED_PREFECT=true."
)


class PrefectServerError(RuntimeError):
    """The local Prefect server did not start (or died while starting), or must not be started."""


def in_kubernetes_pod(environ: Mapping[str, str]) -> bool:
    """Whether this process runs in a Kubernetes pod (the kubelet sets this for every pod)."""
    return bool(environ.get("KUBERNETES_SERVICE_HOST"))


def find_free_port(host: str = "127.0.0.1") -> int:
    """Return a TCP port that is free on ``host`` right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port


def server_environment(state_dir: Path, *, ui: bool, api_url: str) -> dict[str, str]:
    """The environment a local server runs with: its state (and SQLite file) under ``state_dir``.

    The caller's ``PREFECT_*`` settings are left out (they may name another server or profile),
    and the UI is told where its API is: by default it calls ``127.0.0.1:4200``, whatever port
    the server listens on, and would show another server's runs or none.
    """
    env = {key: value for key, value in os.environ.items() if not key.startswith("PREFECT_")}
    env.update(
        PREFECT_HOME=str(state_dir),
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        PREFECT_SERVER_UI_ENABLED="true" if ui else "false",
        PREFECT_LOGGING_SERVER_LEVEL="WARNING",
        PREFECT_UI_API_URL=api_url,
        # The UI build is copied at start-up; into site-packages it would fail on a read-only root.
        PREFECT_UI_STATIC_DIRECTORY=str(state_dir / "ui-build"),
        PREFECT_UI_URL=api_url.removesuffix("/api"),
    )
    return env


class PrefectServer:
    """``prefect server start`` on 127.0.0.1 with its state in ``state_dir``.

    Stopping and starting again keeps the port and the database, so a test can take the API away
    and bring it back.
    """

    def __init__(
        self,
        state_dir: Path,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        ui: bool = False,
        startup_timeout: float = DEFAULT_PREFECT_START_TIMEOUT,
    ) -> None:
        self.state_dir = state_dir
        self.host = host
        self.port = port or find_free_port(host)
        self.ui = ui
        self.startup_timeout = startup_timeout
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def api_url(self) -> str:
        """The API's base URL (what PREFECT_API_URL should say)."""
        return f"http://{self.host}:{self.port}/api"

    @property
    def log_path(self) -> Path:
        """Where the server's output goes."""
        return self.state_dir / "server.log"

    def start(self) -> str:
        """Start the server and wait until it answers its health check.

        Returns:
            The API URL.

        Raises:
            PrefectServerError: it exited or did not answer within ``startup_timeout``.
        """
        if self._process is not None:
            return self.api_url
        self.state_dir.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, "-m", "prefect", "server", "start"]
        command += ["--host", self.host, "--port", str(self.port)]
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                command,
                env=server_environment(self.state_dir, ui=self.ui, api_url=self.api_url),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # a Ctrl-C in our terminal is ours to handle
            )
        self._wait_until_healthy(self._process)
        return self.api_url

    def _wait_until_healthy(self, process: subprocess.Popen[bytes]) -> None:
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                self._process = None
                raise PrefectServerError(
                    f"prefect server exited with {process.returncode}; see {self.log_path}"
                )
            if self.is_healthy():
                return
            time.sleep(0.2)
        self.stop()
        raise PrefectServerError(
            f"prefect server did not answer within {self.startup_timeout}s; see {self.log_path}"
        )

    def is_healthy(self) -> bool:
        """Whether the API answers ``/health`` now."""
        try:
            response = httpx.get(f"{self.api_url}/health", timeout=1.0)
        except httpx.HTTPError:
            return False
        return response.status_code == 200

    def stop(self, timeout: float = 15.0) -> None:
        """Stop the server (SIGTERM, then SIGKILL after ``timeout``); a no-op when not running."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=timeout)

    def __enter__(self) -> PrefectServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def wait_for_api(
    api_url: str, *, timeout: float, interval: float = 1.0, announce: bool = True
) -> None:
    """Wait until the Prefect API at ``api_url`` answers its health check.

    Args:
        api_url: The API's base URL.
        timeout: Longest wait in seconds.
        interval: Seconds between health checks.
        announce: Say on stderr that it waits, once (the caller may show its own progress).

    Raises:
        PrefectServerError: it did not answer within ``timeout`` seconds.
    """
    deadline = time.monotonic() + timeout
    said = False
    while True:
        try:
            if httpx.get(f"{api_url.rstrip('/')}/health", timeout=2.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass  # not up yet: that is what we wait for
        if time.monotonic() >= deadline:
            raise PrefectServerError(
                f"the Prefect API at {api_url} did not answer within {timeout:g} s: check "
                f"{API_URL_VARIABLE} and that this host may reach it"
            )
        if announce and not said:
            print(f"waiting for the Prefect API at {api_url} ...", file=sys.stderr, flush=True)
            said = True
        time.sleep(interval)


def use_prefect_api(api_url: str) -> None:
    """Point this process's Prefect clients (and flow runs in any thread) at ``api_url``.

    Prefect reads its settings once at import; refreshing the global settings context makes
    threads that carry no settings of their own (our flow-run threads) see the new URL too.
    """
    from prefect.context import refresh_global_settings_context

    os.environ[API_URL_VARIABLE] = api_url
    refresh_global_settings_context()


@contextlib.contextmanager
def prefect_api(
    state_dir: Path,
    *,
    ui: bool = True,
    port: int = 0,
    startup_timeout: float = DEFAULT_PREFECT_START_TIMEOUT,
    allow_embedded_in_cluster: bool = False,
    announce: bool = True,
) -> Iterator[str]:
    """Use the Prefect API PREFECT_API_URL names or, when unset, a local server for the duration.

    Args:
        state_dir: Where a local server keeps its SQLite database.
        ui: Serve the Prefect UI from a local server.
        port: A local server's port; 0 picks a free one.
        startup_timeout: How long a local server may take to answer.
        allow_embedded_in_cluster: Start a local server even inside a Kubernetes pod.
        announce: Say on stderr when a configured API does not answer at once.

    Yields:
        The API URL in use.
    """
    configured = os.environ.get(API_URL_VARIABLE)
    if configured:
        # In a fresh install the engine and Prefect start together: wait rather than crash-loop.
        wait_for_api(configured, timeout=startup_timeout, announce=announce)
        yield configured
        return
    if in_kubernetes_pod(os.environ) and not allow_embedded_in_cluster:
        raise PrefectServerError(EMBEDDED_IN_CLUSTER)
    local = PrefectServer(state_dir / "prefect", ui=ui, port=port, startup_timeout=startup_timeout)
    with local as server:
        use_prefect_api(server.api_url)
        try:
            yield server.api_url
        finally:
            forget_prefect_api()


def ask_for_uncompressed_answers() -> None:
    """Have this process's Prefect clients (ours and the flow runs') ask for plain answers.

    Prefect's server gzips every answer over 500 bytes at the highest level, in the one event
    loop that serves every request: a page of 200 join records took 46 ms to serve compressed
    and 27 ms plain, and the webhook's own calls waited meanwhile (in an incident storm, the
    joins' slowest acknowledgements). The engine reaches Prefect over loopback or the cluster
    network, where the bytes cost less than the server's time. Headers an operator set in
    ``PREFECT_CLIENT_CUSTOM_HEADERS`` are kept, their own ``Accept-Encoding`` too; a value that
    is not a JSON object is left for Prefect's settings to report.
    """
    from prefect.context import refresh_global_settings_context

    raw = os.environ.get(HEADERS_VARIABLE) or "{}"
    try:
        headers = json.loads(raw)
    except ValueError:
        return
    if not isinstance(headers, dict):
        return
    if any(name.lower() == "accept-encoding" for name in headers):
        return
    os.environ[HEADERS_VARIABLE] = json.dumps({**headers, "Accept-Encoding": "identity"})
    refresh_global_settings_context()


def forget_prefect_api() -> None:
    """Undo ``use_prefect_api``: this process no longer names a Prefect API."""
    from prefect.context import refresh_global_settings_context

    os.environ.pop(API_URL_VARIABLE, None)
    refresh_global_settings_context()
