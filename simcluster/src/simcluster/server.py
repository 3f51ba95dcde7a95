"""Serve a simulated cluster's Kubernetes API over HTTP and HTTPS from a background thread."""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import Literal

import uvicorn
from starlette.applications import Starlette

from simcluster.admin_api import admin_routes
from simcluster.api import build_app
from simcluster.api.tls import serving_certificate
from simcluster.api.watching import WatchHub
from simcluster.authn import ADMIN_TOKEN, ENGINE_TOKEN
from simcluster.cluster import SimCluster
from simcluster.kubeconfig import write_kubeconfig
from simcluster.metrics import metrics_routes
from simcluster.rbac import RbacPolicy
from simcluster.scenarios import build_cluster

_USERS = {
    "admin": (ADMIN_TOKEN, "simcluster-admin"),
    "engine": (ENGINE_TOKEN, "simcluster-engine"),
}
_START_TIMEOUT_SECONDS = 10.0
# The engine's RBAC manifests, when running from a checkout of the repository (this file is
# simcluster/src/simcluster/server.py there); an installed simcluster has no such folder.
DEPLOY_RBAC_DIR = Path(__file__).resolve().parents[3] / "deploy" / "rbac"


def _default_cluster(rbac_dir: Path | None) -> SimCluster:
    """The seeded scenario cluster, enforcing the RBAC of ``rbac_dir`` when it is present."""
    cluster = build_cluster()
    if cluster.rbac is None and rbac_dir is not None and rbac_dir.is_dir():
        cluster.rbac = RbacPolicy.from_directory(rbac_dir)
    return cluster


def listening_socket(host: str, port: int) -> socket.socket:
    """A TCP socket bound to ``host:port`` (0: any free port), for uvicorn's ``sockets=``."""
    # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY on accepted connections only when the
    # listening socket says so, and without it every response waits ~40 ms for delayed ACKs.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    return sock


class _Uvicorn(uvicorn.Server):
    """uvicorn, dropping idle keep-alive connections at shutdown instead of closing them.

    Closing a TLS connection waits for the peer's close_notify, which an idle pooled client
    connection never sends, so a graceful close would hold shutdown for its whole timeout.
    """

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        for connection in list(self.server_state.connections):
            transport = getattr(connection, "transport", None)
            cycle = getattr(connection, "cycle", None)
            if isinstance(transport, asyncio.Transport) and (
                cycle is None or getattr(cycle, "response_complete", False)
            ):
                transport.abort()
        await super().shutdown(sockets)


#: What uvicorn's websockets-sansio protocol logs when an app refuses an upgrade with an HTTP
#: answer (``websocket.http.response``), although the client got that answer.
DENIAL_NOISE = "ASGI callable returned without completing handshake."


class _RefusedExecIsNoError(logging.Filter):
    """Drops uvicorn's ERROR for an exec the API refused (RBAC's 403, an injected 429 or 500).

    The API server answers a refused exec upgrade with a plain HTTP ``Status``, and so does
    this one; uvicorn (0.3x-0.5x, websockets-sansio) then logs that the app "returned without
    completing handshake", an error line per refusal in a run with injected faults that says
    nothing went wrong. Every exec this app serves either accepts or refuses, so the line never
    means anything else here.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != DENIAL_NOISE


_UVICORN_ERRORS = logging.getLogger("uvicorn.error")
if not any(isinstance(f, _RefusedExecIsNoError) for f in _UVICORN_ERRORS.filters):
    _UVICORN_ERRORS.addFilter(_RefusedExecIsNoError())


def _uvicorn(app: Starlette, *, tls: bool) -> uvicorn.Server:
    certificate = serving_certificate() if tls else None
    config = uvicorn.Config(
        app,
        http="httptools",
        ws="websockets-sansio",
        loop="asyncio",
        lifespan="off",
        access_log=False,
        log_level="warning",
        timeout_graceful_shutdown=2,
        ssl_certfile=str(certificate.cert_file) if certificate else None,
        ssl_keyfile=str(certificate.key_file) if certificate else None,
    )
    return _Uvicorn(config)


class SimServer:
    """The simulated cluster's API server on ``127.0.0.1``, over plain HTTP and HTTPS.

    Both ports are bound at construction, so the URLs are known before `start`. kubectl sends
    credentials only over TLS, so kubeconfigs point at `https_url` (with the CA embedded);
    `url` is plain HTTP for tools that take a bare URL. A server is started and stopped once;
    use it as a context manager.

    Args:
        cluster: The cluster to serve; None builds the default scenario cluster (with the
            RBAC policy of ``rbac_dir``).
        host: Interface to listen on.
        port: Port of the plain-HTTP listener; 0 picks a free one.
        https_port: Port of the HTTPS listener, the one `write_kubeconfig` names; 0 picks a
            free one.
        enforce_rbac: Authorize requests with ``cluster.rbac`` (a cluster without a policy
            authorizes everything; ``system:masters`` always passes).
        rbac_dir: RBAC manifests for the default cluster (ignored with ``cluster``); the
            repository's ``deploy/rbac`` by default, nothing when that folder is absent or
            for None.
    """

    def __init__(
        self,
        cluster: SimCluster | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        https_port: int = 0,
        enforce_rbac: bool = True,
        rbac_dir: Path | None = DEPLOY_RBAC_DIR,
    ) -> None:
        self.cluster = cluster if cluster is not None else _default_cluster(rbac_dir)
        self._sockets = (listening_socket(host, port), listening_socket(host, https_port))
        (http_host, http_port), (https_host, https_port) = (
            s.getsockname()[:2] for s in self._sockets
        )
        self.url = f"http://{http_host}:{http_port}"
        self.https_url = f"https://{https_host}:{https_port}"
        self._hub = WatchHub()
        app = build_app(
            self.cluster,
            enforce_rbac=enforce_rbac,
            hub=self._hub,
            admin_routes=[
                *admin_routes(self.cluster.faults),
                *metrics_routes(self.cluster.metrics),
            ],
        )
        self._servers = (_uvicorn(app, tls=False), _uvicorn(app, tls=True))
        # The coroutine is made in the thread, so a server that never starts leaves none unawaited.
        self._thread = threading.Thread(
            target=lambda: asyncio.run(self._serve()),
            name=f"simcluster-api-{http_port}",
            daemon=True,
        )

    async def _serve(self) -> None:
        pairs = zip(self._servers, self._sockets, strict=True)
        await asyncio.gather(*(server.serve(sockets=[sock]) for server, sock in pairs))

    def start(self) -> SimServer:
        """Start the controllers and the HTTP servers; return once they accept connections.

        Raises:
            RuntimeError: the server did not come up.
        """
        self.cluster.start()
        self._thread.start()
        deadline = time.monotonic() + _START_TIMEOUT_SECONDS
        while not all(server.started for server in self._servers):
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the simulated API server at {self.url} did not start")
            time.sleep(0.005)
        return self

    def stop(self) -> None:
        """End every watch, stop serving and stop the controllers."""
        self._hub.close_all()
        for server in self._servers:
            server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(timeout=_START_TIMEOUT_SECONDS)
        for sock in self._sockets:
            sock.close()
        self.cluster.stop()

    def write_kubeconfig(
        self, path: Path | str, *, user: Literal["admin", "engine"] = "admin"
    ) -> Path:
        """Write a kubeconfig for this server's HTTPS endpoint (context ``simcluster``).

        Args:
            path: Where to write it.
            user: ``admin`` (system:masters) or ``engine`` (the runbook engine's ServiceAccount).
        """
        token, user_name = _USERS[user]
        return write_kubeconfig(
            path,
            self.https_url,
            token=token,
            user_name=user_name,
            ca_pem=serving_certificate().ca_pem,
        )

    def __enter__(self) -> SimServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
