"""The ports ``runbooks up`` needs: each taken one named with its setting, before any starts."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from engine.listeners import PortTakenError, claim_ports, receiver_listener, started_listeners
from engine.prefect_server import find_free_port
from engine.settings import EngineSettings


def free_again(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def test_every_taken_port_of_what_up_starts_is_named_with_its_setting_and_nothing_is_kept(
    tmp_path: Path, taken_port: int
) -> None:
    receiver_port = find_free_port()
    settings = EngineSettings(
        state_dir=tmp_path,
        listen_port=receiver_port,
        prefect_port=taken_port,
        sim_port=taken_port,
    )
    started = started_listeners(settings, simulated=True, embedded_prefect=True)

    with pytest.raises(PortTakenError) as refused:
        claim_ports(receiver_listener(settings), started)

    assert str(refused.value).splitlines() == [
        f"port {taken_port} on 127.0.0.1 is already in use (the Prefect server): "
        "stop what listens there or set RUNBOOKS_PREFECT_PORT to a free port",
        f"port {taken_port} on 127.0.0.1 is already in use (the simulated cluster): "
        "stop what listens there or set RUNBOOKS_SIM_PORT to a free port",
    ]
    assert free_again(receiver_port)


def test_ports_of_servers_up_does_not_start_are_not_checked(
    tmp_path: Path, taken_port: int
) -> None:
    settings = EngineSettings(
        state_dir=tmp_path, listen_port=0, prefect_port=taken_port, sim_port=taken_port
    )
    started = started_listeners(settings, simulated=False, embedded_prefect=False)

    with claim_ports(receiver_listener(settings), started) as receiver:
        assert receiver.getsockname()[1] != 0  # the receiver's, bound for it to serve
