"""Choosing the cluster configuration source: in-cluster, kubeconfig, or URL."""

from __future__ import annotations

from pathlib import Path

import pytest

from integrations.kubernetes.errors import ConfigurationError
from integrations.kubernetes.settings import KubeConnection
from integrations.kubernetes.source import (
    ConnectionSource,
    SourceKind,
    Surroundings,
    choose_source,
    find_surroundings,
)

DEFAULT = Path("/home/sre/.kube/config")
EXPLICIT = Path("/etc/runbooks/kubeconfig")
URL = "https://10.0.0.1:6443"
SERVICE_ACCOUNT_TOKEN = Path("/var/run/secrets/kubernetes.io/serviceaccount/token")

IN_POD = Surroundings(in_cluster=True, default_kubeconfig=None)
ON_LAPTOP = Surroundings(in_cluster=False, default_kubeconfig=DEFAULT)
NOWHERE = Surroundings(in_cluster=False, default_kubeconfig=None)


@pytest.mark.parametrize(
    ("settings", "surroundings", "source"),
    [
        (KubeConnection(), IN_POD, ConnectionSource(SourceKind.IN_CLUSTER)),
        (
            KubeConnection(),
            Surroundings(in_cluster=True, default_kubeconfig=DEFAULT),
            ConnectionSource(SourceKind.IN_CLUSTER),
        ),
        (KubeConnection(), ON_LAPTOP, ConnectionSource(SourceKind.KUBECONFIG, kubeconfig=DEFAULT)),
        (
            KubeConnection(context="staging"),
            ON_LAPTOP,
            ConnectionSource(SourceKind.KUBECONFIG, kubeconfig=DEFAULT, context="staging"),
        ),
        (
            KubeConnection(kubeconfig=EXPLICIT, context="sim"),
            IN_POD,
            ConnectionSource(SourceKind.KUBECONFIG, kubeconfig=EXPLICIT, context="sim"),
        ),
        (
            KubeConnection(kubeconfig=EXPLICIT, url=URL),
            NOWHERE,
            ConnectionSource(SourceKind.KUBECONFIG, kubeconfig=EXPLICIT),
        ),
        (KubeConnection(url=URL), ON_LAPTOP, ConnectionSource(SourceKind.URL, url=URL)),
        (KubeConnection(url=URL), IN_POD, ConnectionSource(SourceKind.URL, url=URL)),
        (KubeConnection(url=URL), NOWHERE, ConnectionSource(SourceKind.URL, url=URL)),
    ],
)
def test_source_choice(
    settings: KubeConnection, surroundings: Surroundings, source: ConnectionSource
) -> None:
    assert choose_source(settings, surroundings) == source


def test_nothing_to_connect_to_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="no cluster configured"):
        choose_source(KubeConnection(), NOWHERE)


def test_a_context_without_any_kubeconfig_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="no kubeconfig"):
        choose_source(KubeConnection(context="prod"), NOWHERE)


@pytest.mark.parametrize(
    ("source", "line"),
    [
        (ConnectionSource(SourceKind.IN_CLUSTER), "in-cluster service account"),
        (
            ConnectionSource(SourceKind.KUBECONFIG, kubeconfig=EXPLICIT, context="sim"),
            "kubeconfig /etc/runbooks/kubeconfig (context sim)",
        ),
        (
            ConnectionSource(SourceKind.KUBECONFIG, kubeconfig=EXPLICIT),
            "kubeconfig /etc/runbooks/kubeconfig (current context)",
        ),
        (ConnectionSource(SourceKind.URL, url=URL), "url https://10.0.0.1:6443"),
    ],
)
def test_sources_describe_themselves_for_the_cli(source: ConnectionSource, line: str) -> None:
    assert source.describe() == line


def test_surroundings_find_the_kubeconfig_named_by_the_environment(tmp_path: Path) -> None:
    kubeconfig = tmp_path / "config"
    kubeconfig.write_text("apiVersion: v1\n")

    found = find_surroundings({"KUBECONFIG": str(kubeconfig), "HOME": str(tmp_path / "home")})

    assert found == Surroundings(in_cluster=False, default_kubeconfig=kubeconfig)


def test_surroundings_fall_back_to_the_home_kubeconfig(tmp_path: Path) -> None:
    home_config = tmp_path / ".kube" / "config"
    home_config.parent.mkdir()
    home_config.write_text("apiVersion: v1\n")

    found = find_surroundings({"HOME": str(tmp_path)})

    assert found.default_kubeconfig == home_config


@pytest.mark.skipif(SERVICE_ACCOUNT_TOKEN.is_file(), reason="running inside a pod")
def test_service_env_vars_without_a_service_account_token_are_not_in_cluster() -> None:
    found = find_surroundings(
        {"KUBERNETES_SERVICE_HOST": "10.96.0.1", "KUBERNETES_SERVICE_PORT": "443", "HOME": "/x"}
    )

    assert found.in_cluster is False


def test_urls_must_be_http_and_lose_their_trailing_slash() -> None:
    assert KubeConnection(url="https://api.example:6443/").url == "https://api.example:6443"
    with pytest.raises(ValueError, match="http"):
        KubeConnection(url="api.example:6443")
