"""Starting a local Prefect server, or using the one PREFECT_API_URL names."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from engine.prefect_server import PrefectServer, PrefectServerError, prefect_api, server_environment


def test_a_configured_api_is_used_without_starting_a_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:4200/api")

    with prefect_api(tmp_path) as api_url:
        assert api_url == "http://127.0.0.1:4200/api"
    assert list(tmp_path.iterdir()) == []


def test_the_server_keeps_its_state_in_the_state_dir_and_ignores_the_callers_prefect_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PREFECT_API_URL", "http://elsewhere:4200/api")

    env = server_environment(tmp_path, ui=False)

    assert env["PREFECT_HOME"] == str(tmp_path)
    assert env["PREFECT_SERVER_UI_ENABLED"] == "false"
    assert env["PREFECT_SERVER_ANALYTICS_ENABLED"] == "false"
    assert "PREFECT_API_URL" not in env


def test_a_server_whose_port_is_taken_fails_to_start_with_its_log(tmp_path: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        server = PrefectServer(tmp_path, port=taken.getsockname()[1], startup_timeout=60)

        with pytest.raises(PrefectServerError, match=r"exited with .*server\.log"):
            server.start()
