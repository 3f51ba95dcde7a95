"""The API v2 client reads alerts as Alertmanager 0.25 lists them and translates failures."""

from __future__ import annotations

import socket
from datetime import UTC, datetime

import httpx
import orjson
import pytest

from integrations.alertmanager import (
    AlertmanagerClient,
    AlertmanagerError,
    AlertmanagerUnavailableError,
)
from tests.integrations.alertmanager.samples import load_fixture

SILENCED = load_fixture("alertmanager_get_alerts_silenced")


class _RecordingAlertmanager:
    """Answers every request with one canned response and keeps the requests."""

    def __init__(self, status: int = 200, body: bytes = orjson.dumps(SILENCED)) -> None:
        self.status = status
        self.body = body
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return httpx.Response(self.status, content=self.body)

    def client(self) -> AlertmanagerClient:
        return AlertmanagerClient(
            "http://alertmanager.test:9093/", transport=httpx.MockTransport(self)
        )


async def test_alerts_are_read_with_their_silencing_state() -> None:
    server = _RecordingAlertmanager()
    async with server.client() as client:
        [alert] = await client.alerts()

    assert alert.fingerprint == "da70fda2d7d6200f"
    assert alert.labels["service"] == "payments"
    assert alert.status.state == "suppressed"
    assert alert.status.silenced_by == ["a271e3fa-a0cd-4100-a537-4ae3f455a808"]
    assert alert.starts_at == datetime(2026, 11, 25, 17, 11, 30, 14000, tzinfo=UTC)


async def test_filters_and_state_flags_are_sent_as_alertmanager_expects() -> None:
    server = _RecordingAlertmanager()
    async with server.client() as client:
        await client.alerts(
            filter=['alertname="ServiceDown"', 'namespace=~"prod.*"'],
            active=True,
            silenced=False,
            inhibited=False,
            receiver="runbook",
        )

    [request] = server.requests
    assert request.url.path == "/api/v2/alerts"
    assert request.url.params.get_list("filter") == [
        'alertname="ServiceDown"',
        'namespace=~"prod.*"',
    ]
    assert request.url.params["active"] == "true"
    assert request.url.params["silenced"] == "false"
    assert request.url.params["inhibited"] == "false"
    assert request.url.params["unprocessed"] == "true"
    assert request.url.params["receiver"] == "runbook"


async def test_is_firing_looks_for_the_fingerprint_among_matching_alerts() -> None:
    server = _RecordingAlertmanager()
    async with server.client() as client:
        firing = await client.is_firing(
            "da70fda2d7d6200f", labels={"alertname": "ServiceDown", "note": 'say "hi"\\'}
        )
        other = await client.is_firing("0000000000000000")

    assert firing is True  # silenced still fires
    assert other is False
    assert server.requests[0].url.params.get_list("filter") == [
        'alertname="ServiceDown"',
        'note="say \\"hi\\"\\\\"',
    ]
    assert server.requests[1].url.params.get_list("filter") == []


@pytest.mark.parametrize("status", [500, 502, 503])
async def test_server_errors_are_unavailable(status: int) -> None:
    async with _RecordingAlertmanager(status, b"overloaded").client() as client:
        with pytest.raises(AlertmanagerUnavailableError, match=f"answered {status}"):
            await client.alerts()


@pytest.mark.parametrize(
    ("status", "body"), [(400, b"bad matcher"), (200, b"{}"), (200, b'[{"labels": 1}]')]
)
async def test_refusals_and_unreadable_answers_are_errors_not_retried(
    status: int, body: bytes
) -> None:
    async with _RecordingAlertmanager(status, body).client() as client:
        with pytest.raises(AlertmanagerError) as raised:
            await client.alerts()

    assert not isinstance(raised.value, AlertmanagerUnavailableError)


async def test_an_unreachable_alertmanager_is_unavailable() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    async with AlertmanagerClient(f"http://127.0.0.1:{closed_port}", timeout=1.0) as client:
        with pytest.raises(AlertmanagerUnavailableError, match="ConnectError"):
            await client.alerts()


async def test_a_timeout_is_unavailable() -> None:
    def hang(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    transport = httpx.MockTransport(hang)
    async with AlertmanagerClient("http://alertmanager.test", transport=transport) as client:
        with pytest.raises(AlertmanagerUnavailableError, match="ReadTimeout"):
            await client.is_firing("da70fda2d7d6200f")
