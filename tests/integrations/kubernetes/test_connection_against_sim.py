"""Connecting to the simulated cluster: kubeconfig, URL and token, and what goes wrong."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from pydantic import SecretStr

from integrations.kubernetes import (
    ConfigurationError,
    KubeConnection,
    SourceKind,
    TransientKubeError,
    Unauthorized,
    connect,
)
from simcluster.server import SimServer
from tests.integrations.kubernetes.conftest import FAST_RETRIES, connect_with


def test_kubeconfig_connection_announces_its_file_and_context(admin_kubeconfig: Path) -> None:
    with connect_with(admin_kubeconfig) as kube:
        assert kube.source is not None
        assert kube.source.kind is SourceKind.KUBECONFIG
        assert kube.source.describe() == f"kubeconfig {admin_kubeconfig} (context simcluster)"
        assert kube.list_nodes()


def test_kubeconfig_found_through_the_environment_is_used(admin_kubeconfig: Path) -> None:
    with connect(
        KubeConnection(retry=FAST_RETRIES), environ={"KUBECONFIG": str(admin_kubeconfig)}
    ) as kube:
        assert kube.source is not None
        assert kube.source.kubeconfig == admin_kubeconfig
        assert kube.list_nodes()


def test_url_and_bearer_token_connect_without_a_kubeconfig(sim: SimServer) -> None:
    settings = KubeConnection(url=sim.url, token=SecretStr("sim-admin-token"), retry=FAST_RETRIES)

    with connect(settings, environ={}) as kube:
        assert kube.source is not None
        assert kube.source.describe() == f"url {sim.url}"
        assert kube.get_daemon_set("kube-proxy", "kube-system").meta.name == "kube-proxy"


def test_an_unknown_token_is_unauthorized(sim: SimServer) -> None:
    settings = KubeConnection(url=sim.url, token=SecretStr("not-a-token"), retry=FAST_RETRIES)

    with connect(settings, environ={}) as kube, pytest.raises(Unauthorized):
        kube.list_nodes()


def test_an_unknown_context_is_a_configuration_error(admin_kubeconfig: Path) -> None:
    with pytest.raises(ConfigurationError, match="no-such-context"):
        connect_with(admin_kubeconfig, context="no-such-context")


def test_a_server_that_refuses_connections_fails_transiently_after_bounded_retries() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    settings = KubeConnection(url=f"http://127.0.0.1:{closed_port}", retry=FAST_RETRIES)

    with connect(settings, environ={}) as kube, pytest.raises(TransientKubeError) as caught:
        kube.list_nodes()
    assert "ConnectionRefused" in str(caught.value) or "NewConnectionError" in str(caught.value)


def test_server_version_proves_the_engine_can_reach_the_cluster(engine_kubeconfig: Path) -> None:
    with connect_with(engine_kubeconfig) as kube:
        assert kube.server_version().startswith("v1.")
