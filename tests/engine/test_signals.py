"""SIGINT and SIGTERM stop the engine the same clean way, in-process and for `runbooks up`."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from engine.prefect_server import find_free_port
from engine.signals import StopRequested, stop_on_signals
from tests.prefect_runs import prefect_start_timeout

REPO = Path(__file__).parents[2]


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM])
def test_either_signal_becomes_a_stop_request_and_the_handlers_are_restored(
    stop: signal.Signals,
) -> None:
    before = signal.getsignal(stop)

    with stop_on_signals(), pytest.raises(StopRequested) as requested:
        signal.raise_signal(stop)  # the handler runs, and raises, before this returns

    assert requested.value.signal is stop
    assert signal.getsignal(stop) is before


def listening(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


@pytest.mark.e2e
def test_sigterm_stops_runbooks_up_cleanly_with_its_prefect_server_and_no_traceback(
    tmp_path: Path,
) -> None:
    prefect_port = find_free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("PREFECT_")}
    env |= {
        "RUNBOOKS_STATE_DIR": str(tmp_path / "state"),
        "RUNBOOKS_LISTEN_PORT": str(find_free_port()),
        "RUNBOOKS_PREFECT_PORT": str(prefect_port),
        "RUNBOOKS_SIM_PORT": str(find_free_port()),
        "RUNBOOKS_SIMULATE": "true",
        "RUNBOOKS_SIM_NODES": "3",
    }
    engine = subprocess.Popen(
        [sys.executable, "-m", "engine.cli", "up"],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert engine.stdout is not None
        deadline = time.monotonic() + prefect_start_timeout() + 60
        seen: list[str] = []
        while not any("engine is up" in line for line in seen):
            line = engine.stdout.readline()
            assert line, f"runbooks up ended before its banner; printed: {seen}"
            assert time.monotonic() < deadline, f"no banner in time; printed: {seen}"
            seen.append(line)
        assert listening(prefect_port)

        engine.send_signal(signal.SIGTERM)
        out, err = engine.communicate(timeout=90)
    finally:
        if engine.poll() is None:
            engine.kill()
            engine.wait()

    assert engine.returncode == 0, err
    assert out.strip().splitlines()[-1] == "engine stopped (SIGTERM)"
    assert "Traceback" not in err
    assert not listening(prefect_port)
