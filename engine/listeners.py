"""The ports ``runbooks up`` listens on, checked before anything slow starts."""

from __future__ import annotations

import errno
import socket
from dataclasses import dataclass

from engine.settings import EngineSettings


@dataclass(frozen=True)
class Listener:
    """A port ``runbooks up`` listens on, itself or through a server it starts.

    Attributes:
        what: Who listens there, for the operator.
        host: The address.
        port: The port; 0 picks a free one (never taken).
        settings: The variables that move it (its port's first).
    """

    what: str
    host: str
    port: int
    settings: tuple[str, ...]


class PortTakenError(RuntimeError):
    """Ports ``runbooks up`` needs cannot be listened on: one line each, naming its setting."""


def receiver_listener(settings: EngineSettings) -> Listener:
    """Where the webhook receiver listens."""
    return Listener(
        "the webhook receiver",
        settings.listen_host,
        settings.listen_port,
        ("RUNBOOKS_LISTEN_PORT", "RUNBOOKS_LISTEN_HOST"),
    )


def started_listeners(
    settings: EngineSettings, *, simulated: bool, embedded_prefect: bool
) -> list[Listener]:
    """Where the servers ``runbooks up`` starts will listen (each on 127.0.0.1, as they bind)."""
    ports = []
    if embedded_prefect:
        ports.append(
            Listener(
                "the Prefect server", "127.0.0.1", settings.prefect_port, ("RUNBOOKS_PREFECT_PORT",)
            )
        )
    if simulated:
        ports.append(
            Listener(
                "the simulated cluster", "127.0.0.1", settings.sim_port, ("RUNBOOKS_SIM_PORT",)
            )
        )
    return ports


def claim_ports(receiver: Listener, started: list[Listener]) -> socket.socket:
    """Bind the receiver's port (kept for it to serve) and check that the others are free.

    Checked before anything slow starts: a taken port found after a 90 s Prefect start, or after
    the banner (as uvicorn would), wastes the operator's time and says less.

    Returns:
        The receiver's socket, bound (not listening yet).

    Raises:
        PortTakenError: one line for each port that cannot be listened on.
    """
    problems: list[str] = []
    kept: socket.socket | None = None
    try:
        kept = _bound(receiver)
    except OSError as error:
        problems.append(_cannot_listen(receiver, error))
    for listener in started:
        if listener.port == 0:
            continue  # a free one is picked when its server starts
        try:
            _bound(listener).close()
        except OSError as error:
            problems.append(_cannot_listen(listener, error))
    if kept is None or problems:
        if kept is not None:
            kept.close()
        raise PortTakenError("\n".join(problems))
    return kept


def _bound(listener: Listener) -> socket.socket:
    # As uvicorn binds: SO_REUSEADDR lets a restarted engine take its port back from TIME_WAIT
    # connections, while a live listener still makes the bind fail.
    family = socket.AF_INET6 if ":" in listener.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((listener.host, listener.port))
    except OSError:
        sock.close()
        raise
    return sock


def _cannot_listen(listener: Listener, error: OSError) -> str:
    if error.errno == errno.EADDRINUSE:
        return (
            f"port {listener.port} on {listener.host} is already in use ({listener.what}): "
            f"stop what listens there or set {listener.settings[0]} to a free port"
        )
    return (
        f"cannot listen on {listener.host}:{listener.port} ({listener.what}): "
        f"{error.strerror or error}; check {' and '.join(listener.settings)}"
    )


def receiver_url(settings: EngineSettings, receiver: socket.socket) -> str:
    """The receiver's base URL, with the port it is bound to (RUNBOOKS_LISTEN_PORT=0 picks one)."""
    host = f"[{settings.listen_host}]" if ":" in settings.listen_host else settings.listen_host
    return f"http://{host}:{receiver.getsockname()[1]}"
