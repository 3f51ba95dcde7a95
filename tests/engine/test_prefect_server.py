"""Starting a local Prefect server, or using the one PREFECT_API_URL names."""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prefect.client.orchestration import PrefectClient
from prefect.context import refresh_global_settings_context
from starlette.applications import Starlette
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from engine.prefect_server import (
    HEADERS_VARIABLE,
    PrefectServer,
    PrefectServerError,
    ask_for_uncompressed_answers,
    prefect_api,
    server_environment,
)
from tests.engine.served import served
from tests.prefect_runs import prefect_start_timeout


@pytest.fixture
def answering_api() -> Iterator[str]:
    """An API whose health check answers, as a configured Prefect's does."""
    app = Starlette(routes=[Route("/api/health", lambda _: JSONResponse(True))])
    with served(app) as url:
        yield f"{url}/api"


def test_a_configured_api_is_used_without_starting_a_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, answering_api: str
) -> None:
    monkeypatch.setenv("PREFECT_API_URL", answering_api)

    with prefect_api(tmp_path) as api_url:
        assert api_url == answering_api
    assert list(tmp_path.iterdir()) == []


def test_a_configured_api_that_never_answers_stops_the_start_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:9/api")

    with (
        pytest.raises(PrefectServerError, match=r"127.0.0.1:9/api did not answer within 1 s"),
        prefect_api(tmp_path, startup_timeout=1),
    ):
        pass


def test_the_server_keeps_its_state_in_the_state_dir_and_ignores_the_callers_prefect_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PREFECT_API_URL", "http://elsewhere:4200/api")

    env = server_environment(tmp_path, ui=False, api_url="http://127.0.0.1:4301/api")

    assert env["PREFECT_HOME"] == str(tmp_path)
    assert env["PREFECT_SERVER_UI_ENABLED"] == "false"
    assert env["PREFECT_SERVER_ANALYTICS_ENABLED"] == "false"
    assert "PREFECT_API_URL" not in env


def test_the_ui_of_a_server_on_another_port_than_4200_calls_its_own_api(tmp_path: Path) -> None:
    with PrefectServer(tmp_path, ui=True, startup_timeout=prefect_start_timeout()) as server:
        base = server.api_url.removesuffix("/api")
        ui_settings = httpx.get(f"{base}/ui-settings", timeout=10).json()

    assert server.port != 4200
    assert ui_settings["api_url"] == server.api_url


def test_a_server_whose_port_is_taken_fails_to_start_with_its_log(tmp_path: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        server = PrefectServer(tmp_path, port=taken.getsockname()[1], startup_timeout=60)

        with pytest.raises(PrefectServerError, match=r"exited with .*server\.log"):
            server.start()


def test_a_pod_without_prefect_api_url_refuses_a_local_server_naming_the_fixes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1")

    with pytest.raises(PrefectServerError) as refused, prefect_api(tmp_path):
        pass

    message = str(refused.value)
    for fix in ("PREFECT_API_URL", "overlays/with-prefect", "overlays/external-prefect"):
        assert fix in message
    assert "RUNBOOKS_ALLOW_EMBEDDED_PREFECT=true" in message
    assert list(tmp_path.iterdir()) == []


def test_a_pod_with_prefect_api_url_uses_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, answering_api: str
) -> None:
    monkeypatch.setenv("PREFECT_API_URL", answering_api)
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1")

    with prefect_api(tmp_path) as api_url:
        assert api_url == answering_api


def _compressing_api(seen: list[str | None]) -> Starlette:
    """An API that records each request's Accept-Encoding and gzips what it may (as Prefect)."""

    def big(request: Request) -> JSONResponse:
        seen.append(request.headers.get("accept-encoding"))
        return JSONResponse({"records": ["x" * 100] * 100})

    app = Starlette(routes=[Route("/api/hello", big)])
    app.add_middleware(GZipMiddleware)
    return app


async def test_the_engines_prefect_clients_ask_for_answers_prefect_need_not_compress(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(HEADERS_VARIABLE, raising=False)
    seen: list[str | None] = []
    with served(_compressing_api(seen)) as url:
        ask_for_uncompressed_answers()
        async with PrefectClient(f"{url}/api") as client:
            answer = await client.hello()
    monkeypatch.setenv(HEADERS_VARIABLE, "{}")
    refresh_global_settings_context()

    assert seen == ["identity"]
    assert "content-encoding" not in answer.headers
    assert len(answer.json()["records"]) == 100


@pytest.mark.parametrize(
    ("configured", "expected"),
    [
        ('{"X-Team": "sre"}', {"X-Team": "sre", "Accept-Encoding": "identity"}),
        ('{"accept-encoding": "gzip"}', {"accept-encoding": "gzip"}),
        ("not json", "not json"),
        ('["a list"]', '["a list"]'),
    ],
)
def test_an_operators_own_prefect_client_headers_are_kept(
    monkeypatch: pytest.MonkeyPatch, configured: str, expected: object
) -> None:
    monkeypatch.setenv(HEADERS_VARIABLE, configured)

    ask_for_uncompressed_answers()
    now = os.environ[HEADERS_VARIABLE]
    monkeypatch.setenv(HEADERS_VARIABLE, "{}")
    refresh_global_settings_context()

    assert (json.loads(now) if isinstance(expected, dict) else now) == expected
