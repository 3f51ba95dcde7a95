"""Pod logs over HTTP and command execution over the Kubernetes WebSocket channel protocol."""

from __future__ import annotations

from collections.abc import Mapping

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.websockets import WebSocket

from simcluster.api.backend import ClusterBackend, ExecOutcome
from simcluster.api.paths import ResourcePath
from simcluster.errors import BadRequestError

# Newest first: the client offers both, and v5 adds only a close-channel signal we need not send.
CHANNEL_PROTOCOLS = ("v5.channel.k8s.io", "v4.channel.k8s.io")
STDOUT_CHANNEL, STDERR_CHANNEL, ERROR_CHANNEL = 1, 2, 3


def parse_tail_lines(query: Mapping[str, str]) -> int | None:
    """Read ``tailLines`` (None when absent).

    Raises:
        BadRequestError: not a non-negative integer.
    """
    raw = query.get("tailLines")
    if raw is None or raw == "":
        return None
    if not raw.isdigit():
        raise BadRequestError(
            f'tailLines: Invalid value: "{raw}": must be greater than or equal to 0'
        )
    return int(raw)


async def read_log(cluster: ClusterBackend, target: ResourcePath, query: Mapping[str, str]) -> str:
    """Return a pod's log (``container``, ``tailLines`` and ``previous`` honoured)."""
    tail_lines = parse_tail_lines(query)
    previous = query.get("previous", "").lower() in ("true", "1")
    return await run_in_threadpool(
        cluster.pod_logs.read,
        str(target.namespace),
        str(target.name),
        container=query.get("container") or None,
        tail_lines=tail_lines,
        previous=previous,
    )


def choose_subprotocol(offered_header: str | None) -> str | None:
    """Pick the channel protocol to speak from a ``Sec-WebSocket-Protocol`` offer."""
    offered = {p.strip() for p in (offered_header or "").split(",") if p.strip()}
    return next((p for p in CHANNEL_PROTOCOLS if p in offered), None)


def exit_status(exit_code: int, command: list[str]) -> dict[str, object]:
    """The `Status` the error channel carries when a command ends (as the kubelet sends it)."""
    if exit_code == 0:
        return {"metadata": {}, "status": "Success"}
    return {
        "metadata": {},
        "status": "Failure",
        "message": (
            f"command terminated with non-zero exit code: error executing command {command}, "
            f"exit code {exit_code}"
        ),
        "reason": "NonZeroExitCode",
        "details": {"causes": [{"reason": "ExitCode", "message": str(exit_code)}]},
    }


def exec_frames(
    outcome: ExecOutcome, command: list[str], *, stdout: bool, stderr: bool
) -> list[bytes]:
    """The binary WebSocket messages that deliver a finished command's output and exit status."""
    frames: list[bytes] = []
    if stdout and outcome.stdout:
        frames.append(bytes([STDOUT_CHANNEL]) + outcome.stdout.encode())
    if stderr and outcome.stderr:
        frames.append(bytes([STDERR_CHANNEL]) + outcome.stderr.encode())
    frames.append(bytes([ERROR_CHANNEL]) + orjson.dumps(exit_status(outcome.exit_code, command)))
    return frames


async def run_exec(
    cluster: ClusterBackend, target: ResourcePath, query: Mapping[str, str], commands: list[str]
) -> ExecOutcome:
    """Run the requested command in the pod (off the event loop).

    Raises:
        ApiError: no command, or the pod or container does not exist.
    """
    if not commands:
        raise BadRequestError("you must specify at least 1 command")
    return await run_in_threadpool(
        cluster.pod_exec.run,
        str(target.namespace),
        str(target.name),
        container=query.get("container") or None,
        command=commands,
    )


async def stream_exec(
    websocket: WebSocket, outcome: ExecOutcome, commands: list[str], subprotocol: str
) -> None:
    """Accept the upgrade, send the output channels and the exit status, and close."""
    query = websocket.query_params
    await websocket.accept(subprotocol=subprotocol)
    for frame in exec_frames(
        outcome,
        commands,
        stdout=_flag(query.get("stdout"), default=True),
        stderr=_flag(query.get("stderr"), default=True),
    ):
        await websocket.send_bytes(frame)
    await websocket.close()


def _flag(value: str | None, *, default: bool) -> bool:
    if value is None:
        return default
    return value.lower() in ("true", "1")
