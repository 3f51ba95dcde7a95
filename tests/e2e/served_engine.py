"""The assembled engine served by uvicorn on 127.0.0.1 in a thread; stopped and started again."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from uuid import UUID

import httpx
import uvicorn
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr

from engine.cluster_access import ClusterAccess
from engine.deployments import DeploymentSpec, product_deployments
from engine.intake.auth import WebhookAuth
from engine.startup import Engine, SlackApprovals, assemble_engine
from integrations.kubernetes import KubeConnection
from simcluster.server import listening_socket

TOKEN = "e2e-webhook-token"
AUTH = WebhookAuth(bearer_token=SecretStr(TOKEN))
BEARER = {"Authorization": f"Bearer {TOKEN}"}


def simulated_access(kubeconfig: Path) -> ClusterAccess:
    """How the engine reaches a simulated cluster through the engine user's kubeconfig."""
    return ClusterAccess(
        connection=KubeConnection(kubeconfig=kubeconfig),
        description=f"simulated cluster ({kubeconfig})",
        simulated=True,
    )


@dataclass
class ServedEngine:
    """``assemble_engine`` + uvicorn (lifespan on: warm executor and sweeper) in a thread.

    Each ``start`` assembles a fresh engine (as a restarted process would) and serves it on the
    same port, so Alertmanager's configured webhook URL stays valid across restarts.

    Attributes:
        access: The cluster the engine's flows work on (needed unless ``assemble`` is given).
        auth: The webhook credentials.
        specs: The deployments to register and run.
        alertmanager_url: Passed to the flows' runtime, if any.
        slack: Approvals in Slack (notifier and callback route), if any.
        port: Fixed at construction (a free port when 0).
        unresponsive_after_seconds: Silence after which Prefect marks a run Crashed (its
            engine died); heartbeats stay at Prefect's shortest, 30 s.
        assemble: Builds the engine instead of ``assemble_engine`` (benchmarks compose a
            receiver whose runs no executor takes); ``access`` and ``specs`` are then unused.
    """

    access: ClusterAccess | None = None
    auth: WebhookAuth = AUTH
    specs: tuple[DeploymentSpec, ...] = field(default_factory=product_deployments)
    alertmanager_url: str | None = None
    slack: SlackApprovals | None = None
    port: int = 0
    unresponsive_after_seconds: int = 120
    assemble: Callable[[], Awaitable[Engine]] | None = None
    deployment_ids: dict[str, UUID] = field(default_factory=dict, init=False)
    _server: uvicorn.Server | None = field(default=None, init=False)
    _thread: threading.Thread | None = field(default=None, init=False)
    _failure: BaseException | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        if not self.port:
            with socket.socket() as probe:
                probe.bind(("127.0.0.1", 0))
                self.port = probe.getsockname()[1]

    @property
    def url(self) -> str:
        """The engine's base URL."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def webhook_url(self) -> str:
        """Where Alertmanager posts notifications."""
        return f"{self.url}/alertmanager"

    def start(self, timeout: float = 60.0) -> None:
        """Assemble an engine and serve it; return once it accepts requests.

        Raises:
            RuntimeError: it did not start (with the cause, when assembling failed).
        """
        if self._thread is not None:
            return
        self._failure = None
        sock = listening_socket("127.0.0.1", self.port)
        self._thread = threading.Thread(
            target=self._serve, args=(sock,), name=f"engine-{self.port}", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + timeout
        while self._server is None or not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the engine did not start on {self.url}") from self._failure
            time.sleep(0.02)

    def stop(self, timeout: float = 60.0) -> None:
        """Shut the engine down as SIGTERM would (lifespan shutdown); a no-op when stopped."""
        thread, self._thread = self._thread, None
        if self._server is not None:
            self._server.should_exit = True
        if thread is not None:
            thread.join(timeout=timeout)
        self._server = None

    def restart(self) -> None:
        """Stop, then start a freshly assembled engine on the same port."""
        self.stop()
        self.start()

    async def metric(self, name: str, **labels: str) -> float:
        """A sample's value as ``GET /metrics`` shows it now (0 when absent)."""
        async with httpx.AsyncClient(timeout=5) as client:
            text = (await client.get(f"{self.url}/metrics")).text
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.name == name and sample.labels == labels:
                    return float(sample.value)
        return 0.0

    def _serve(self, sock: socket.socket) -> None:
        try:
            asyncio.run(self._main(sock))
        except BaseException as error:  # noqa: BLE001 - kept for start() to raise from
            self._failure = error
        finally:
            sock.close()

    async def _main(self, sock: socket.socket) -> None:
        if self.assemble is not None:
            engine = await self.assemble()
        elif self.access is None:
            raise ValueError("ServedEngine needs the cluster access to assemble the engine")
        else:
            engine = await assemble_engine(
                access=self.access,
                auth=self.auth,
                specs=self.specs,
                alertmanager_url=self.alertmanager_url,
                slack=self.slack,
                unresponsive_after_seconds=self.unresponsive_after_seconds,
            )
        self.deployment_ids = engine.deployment_ids
        config = uvicorn.Config(
            engine.app, lifespan="on", log_level="warning", access_log=False, log_config=None
        )
        self._server = uvicorn.Server(config)
        await self._server.serve(sockets=[sock])
