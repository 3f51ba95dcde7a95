"""``runbooks up`` before it serves: taken ports refused at once, and a real cluster announced."""

from __future__ import annotations

import contextlib
import logging
import re
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.applications import Starlette

from engine.cli import main
from engine.cluster_access import ClusterAccess, configured_cluster
from engine.prefect_server import find_free_port
from engine.settings import EngineSettings
from engine.startup import (
    Engine,
    PortTakenError,
    claim_ports,
    engine_banner,
    receiver_listener,
    started_listeners,
)
from runbooks import load_catalog

FAKE_KUBECONFIG = """\
apiVersion: v1
kind: Config
clusters:
- name: prod
  cluster: {server: "https://10.0.0.1:6443"}
users:
- name: ops
  user: {token: not-a-real-token}
contexts:
- name: prod-eu
  context: {cluster: prod, user: ops}
current-context: prod-eu
"""

RUNBOOK = """\
name: {name}
description: A runbook for the banner's tests.
match:
  labels: {{alertname: {alertname}}}
deployment: service-checklist/service-checklist
parameters:
  scope: service
concurrency_key: "{name}"
approval:
  actions:
{actions}
"""


@pytest.fixture
def prod_kubeconfig(tmp_path: Path) -> Path:
    """A kubeconfig naming a production-like cluster, never contacted by these tests."""
    path = tmp_path / "prod.kubeconfig"
    path.write_text(FAKE_KUBECONFIG)
    return path


@pytest.fixture
def taken_port() -> Iterator[int]:
    """A port another process listens on."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        yield other.getsockname()[1]


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


def free_again(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


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


def shouted(banner: str) -> str:
    """The banner's framed ``!!! … !!!`` lines as one sentence run, unwrapped."""
    inner = [line.strip()[3:-3] for line in banner.splitlines() if line.startswith("  !!! ")]
    return re.sub(r"\s+", " ", " ".join(inner)).strip()


def prod_banner(settings: EngineSettings, access: ClusterAccess, catalog_dir: Path) -> str:
    engine = Engine(
        app=Starlette(),
        deployment_ids={},
        catalog=load_catalog(catalog_dir),
    )
    return engine_banner(
        settings,
        access,
        api_url="http://127.0.0.1:4200/api",
        engine=engine,
        receiver_url="http://127.0.0.1:8080",
    )


@pytest.fixture
def catalog_dir(tmp_path: Path) -> Path:
    """Two runbooks: one waits for approval to restart kube-proxy, one patches unattended."""
    folder = tmp_path / "catalog"
    folder.mkdir()
    (folder / "service-down.yaml").write_text(
        RUNBOOK.format(
            name="service-down",
            alertname="ServiceDown",
            actions="    diagnose: auto\n    restart_kube_proxy_pod: required\n"
            "    patch_service: required",
        )
    )
    (folder / "selector-drift.yaml").write_text(
        RUNBOOK.format(
            name="selector-drift", alertname="SelectorDrift", actions="    patch_service: auto"
        )
    )
    return folder


def test_with_a_real_cluster_the_banner_shouts_its_api_server_context_and_approvals(
    tmp_path: Path, prod_kubeconfig: Path, catalog_dir: Path
) -> None:
    settings = EngineSettings(
        state_dir=tmp_path,
        kubeconfig=prod_kubeconfig,
        slack_bot_token="xoxb-test",
        slack_signing_secret="secret",
        slack_channel="C0123ABC",
    )
    access = configured_cluster(settings)
    assert access is not None

    banner = prod_banner(settings, access, catalog_dir)

    assert shouted(banner) == (
        "REAL CLUSTER: the engine acts on https://10.0.0.1:6443 "
        "kubeconfig context: prod-eu "
        "changes wait for approval: restart_kube_proxy_pod (Slack channel C0123ABC / Prefect UI) "
        "changes made WITHOUT approval: patch_service (selector-drift)"
    )
    assert "SIMULATED" not in banner
    assert all(len(line) <= 79 for line in banner.splitlines() if line.startswith("  !!! "))


def test_without_slack_the_real_cluster_banner_says_approvals_wait_in_the_prefect_ui(
    tmp_path: Path, prod_kubeconfig: Path, catalog_dir: Path
) -> None:
    settings = EngineSettings(state_dir=tmp_path, kubeconfig=prod_kubeconfig)
    access = configured_cluster(settings)
    assert access is not None

    banner = prod_banner(settings, access, catalog_dir)

    assert "changes wait for approval: restart_kube_proxy_pod (Prefect UI)" in shouted(banner)
