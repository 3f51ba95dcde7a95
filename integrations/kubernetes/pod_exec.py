"""Running a command in a pod over the exec websocket, with its exit code from the Status."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
import websocket
from kubernetes import client
from kubernetes.stream import stream
from kubernetes.stream.ws_client import ERROR_CHANNEL, STDERR_CHANNEL, STDOUT_CHANNEL

from integrations.kubernetes.errors import PermanentKubeError, TransientKubeError
from integrations.kubernetes.retry import RetryPolicy, call_with_retries
from integrations.kubernetes.translation import CLIENT_ERRORS, translate_client_error


@dataclass(frozen=True, slots=True)
class ExecResult:
    """What a command run in a pod printed, and how it exited."""

    stdout: str
    stderr: str
    exit_code: int

    @property
    def succeeded(self) -> bool:
        """Whether the command exited 0."""
        return self.exit_code == 0


def parse_exit_code(status_text: str) -> int:
    """Read the exit code from the exec error channel's ``Status`` document.

    ``Success`` is 0; ``NonZeroExitCode`` carries the code as its ``ExitCode`` cause.

    Raises:
        TransientKubeError: No status arrived (the stream broke before the command ended).
        PermanentKubeError: The command did not run at all (e.g. executable not found).
    """
    if not status_text.strip():
        raise TransientKubeError("exec stream ended without an exit status")
    try:
        status = orjson.loads(status_text)
    except orjson.JSONDecodeError as error:
        raise PermanentKubeError(f"unreadable exec status {status_text!r}") from error
    if not isinstance(status, dict):
        raise PermanentKubeError(f"unreadable exec status {status_text!r}")
    if status.get("status") == "Success":
        return 0
    details = status.get("details")
    causes = details.get("causes") if isinstance(details, dict) else None
    for cause in causes if isinstance(causes, list) else []:
        if isinstance(cause, dict) and cause.get("reason") == "ExitCode":
            message = str(cause.get("message", ""))
            if message.lstrip("-").isdigit():
                return int(message)
    raise PermanentKubeError(
        f"command did not run: {status.get('message') or status_text}",
        reason=str(status.get("reason") or ""),
    )


def run_in_pod(
    configuration: client.Configuration,
    name: str,
    namespace: str,
    command: Sequence[str],
    *,
    container: str | None,
    request_timeout_seconds: float,
    exec_timeout_seconds: float,
    retry_policy: RetryPolicy,
    sleep: Callable[[float], None] = time.sleep,
) -> ExecResult:
    """Run `command` in a pod and wait for it to end.

    A refused handshake (429, 5xx, a refused connection) is retried under `retry_policy`: the
    command never started. Nothing else is: a command may not be idempotent.

    Raises:
        TransientKubeError: The connection failed or the command outlived its timeout.
        KubeError: Any other refusal, translated (e.g. `Forbidden` for missing ``pods/exec``).
    """
    # `stream` swaps the ApiClient's transport while it runs, so an exec gets a client of its
    # own; sharing one would send concurrent ordinary calls down the websocket path.
    with client.ApiClient(configuration) as api_client:
        session = call_with_retries(
            lambda: _open(
                api_client,
                name,
                namespace,
                command,
                container=container,
                request_timeout_seconds=request_timeout_seconds,
            ),
            retry_policy,
            sleep=sleep,
            safe_to_repeat=never_started,
        )
        return _collect(session, timeout=exec_timeout_seconds)


def never_started(error: TransientKubeError) -> bool:
    """Whether a failed exec handshake surely left the command unstarted.

    An answered handshake (429, 5xx) or a refused connection did; a timeout or a reset may
    have come after the API server started the command, so it is not repeated.
    """
    return error.status is not None or "Connection refused" in str(error)


# The session is the client's WSClient, whose methods are unannotated.
def _open(
    api_client: client.ApiClient,
    name: str,
    namespace: str,
    command: Sequence[str],
    *,
    container: str | None,
    request_timeout_seconds: float,
) -> Any:
    """Open the exec websocket; the command starts once the handshake is accepted."""
    try:
        return stream(
            client.CoreV1Api(api_client).connect_get_namespaced_pod_exec,
            name,
            namespace,
            command=list(command),
            container=container,
            stdin=False,
            stdout=True,
            stderr=True,
            tty=False,
            _preload_content=False,
            _request_timeout=request_timeout_seconds,
        )
    except CLIENT_ERRORS as error:
        raise translate_client_error(error, now=datetime.now(UTC)) from error


def _collect(session: Any, *, timeout: float) -> ExecResult:
    try:
        session.run_forever(timeout=timeout)
        if session.is_open():
            raise TransientKubeError(f"command still running after {timeout:g}s", reason="Timeout")
        stdout = session.read_channel(STDOUT_CHANNEL, timeout=0)
        stderr = session.read_channel(STDERR_CHANNEL, timeout=0)
        status = session.read_channel(ERROR_CHANNEL, timeout=0)
    except (websocket.WebSocketException, OSError) as error:
        raise TransientKubeError(f"exec stream failed: {error}") from error
    finally:
        session.close()
    return ExecResult(stdout=stdout, stderr=stderr, exit_code=parse_exit_code(status))
