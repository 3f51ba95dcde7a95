"""``runbooks up`` before it serves: a taken port stops it at once, with one line and no banner."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.cli import main


@contextlib.contextmanager
def root_logger_kept() -> Iterator[None]:
    """`runbooks up` configures the root logger; give it back its handlers afterwards."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        yield
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)


def test_a_taken_receiver_port_stops_runbooks_up_with_one_line_naming_its_setting(
    tmp_path: Path,
    prod_kubeconfig: Path,
    taken_port: int,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("RUNBOOKS_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("RUNBOOKS_KUBECONFIG", str(prod_kubeconfig))
    monkeypatch.setenv("RUNBOOKS_WEBHOOK_TOKEN", "t")
    monkeypatch.setenv("RUNBOOKS_LISTEN_PORT", str(taken_port))
    monkeypatch.setenv("PREFECT_LOCAL_STORAGE_PATH", str(tmp_path / "results"))

    with root_logger_kept():
        code = main(["up"])

    assert code == 2
    captured = capsys.readouterr()
    assert captured.err == (
        f"error: port {taken_port} on 127.0.0.1 is already in use (the webhook receiver): "
        "stop what listens there or set RUNBOOKS_LISTEN_PORT to a free port\n"
    )
    assert captured.out == ""  # no banner
