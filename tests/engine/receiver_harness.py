"""A receiver wired to in-memory parts, and an HTTP client to it (ASGI, no socket)."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
from prometheus_client import CollectorRegistry
from pydantic import SecretStr
from starlette.applications import Starlette

from engine.intake.alert_plan import AlertMatcher, catalog_matcher
from engine.intake.auth import BasicCredentials, WebhookAuth
from engine.intake.receiver import NotReadyError, ReceiverLimits, build_receiver
from runbooks import load_catalog
from tests.engine.memory_dispatcher import InMemoryDispatcher

TOKEN = "s3cr3t-token"  # the token in the captured samples' Authorization header
BASIC_USER = "amuser"
BASIC_PASSWORD = "ampass"
BEARER = {"Authorization": f"Bearer {TOKEN}"}
BASIC = {
    "Authorization": "Basic " + base64.b64encode(f"{BASIC_USER}:{BASIC_PASSWORD}".encode()).decode()
}
AUTH = WebhookAuth(
    bearer_token=SecretStr(TOKEN),
    basic=BasicCredentials(username=BASIC_USER, password=SecretStr(BASIC_PASSWORD)),
)


@dataclass
class FakeClock:
    """Epoch seconds that move only when told."""

    now: float = 1_795_626_510.0
    step: float = 0.0

    def __call__(self) -> float:
        self.now += self.step
        return self.now

    def advance(self, seconds: float) -> None:
        """Move time forward."""
        self.now += seconds


@dataclass
class KubernetesStub:
    """The Kubernetes readiness check, up or down."""

    reachable: bool = True

    async def __call__(self) -> None:
        if not self.reachable:
            raise NotReadyError("apiserver https://127.0.0.1:6443 refused the connection")


@dataclass
class Receiver:
    """The app under test and everything it was built with."""

    app: Starlette
    dispatcher: InMemoryDispatcher
    registry: CollectorRegistry
    clock: FakeClock
    kubernetes: KubernetesStub
    client: httpx.AsyncClient = field(init=False)

    def metric(self, name: str, **labels: str) -> float:
        """A sample's value in the receiver's registry (0 when never set)."""
        return self.registry.get_sample_value(name, labels) or 0.0

    async def post(self, body: Any, *, headers: dict[str, str] | None = None) -> httpx.Response:
        """POST a JSON body to the webhook with the bearer token (unless `headers` say else)."""
        return await self.client.post(
            "/alertmanager", json=body, headers=BEARER if headers is None else headers
        )


def build_app(
    *,
    dispatcher: InMemoryDispatcher | None = None,
    matcher: AlertMatcher | None = None,
    limits: ReceiverLimits | None = None,
    auth: WebhookAuth = AUTH,
) -> Receiver:
    """A receiver over the shipped catalog, an in-memory dispatcher and a fake clock."""
    parts = Receiver(
        app=Starlette(),
        dispatcher=dispatcher or InMemoryDispatcher(),
        registry=CollectorRegistry(),
        clock=FakeClock(),
        kubernetes=KubernetesStub(),
    )
    parts.app = build_receiver(
        dispatcher=parts.dispatcher,
        matcher=matcher or catalog_matcher(load_catalog()),
        auth=auth,
        registry=parts.registry,
        kubernetes_check=parts.kubernetes,
        clock=parts.clock,
        limits=limits,
    )
    return parts


@asynccontextmanager
async def receiver(**options: Any) -> AsyncIterator[Receiver]:
    """A receiver (see `build_app`) with an httpx client talking ASGI to it."""
    parts = build_app(**options)
    transport = httpx.ASGITransport(app=parts.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://receiver.test") as client:
        parts.client = client
        yield parts
