"""Connecting: loading the chosen configuration source into a client and a `Kube` facade."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from kubernetes import client
from kubernetes import config as _config
from kubernetes.config.config_exception import ConfigException

from integrations.kubernetes.errors import ConfigurationError
from integrations.kubernetes.kube import Kube
from integrations.kubernetes.settings import KubeConnection
from integrations.kubernetes.source import (
    ConnectionSource,
    SourceKind,
    choose_source,
    find_surroundings,
)

# The client's config loaders are unannotated; Any keeps strict mypy from flagging each call.
_loaders: Any = _config


def load_configuration(
    source: ConnectionSource, settings: KubeConnection
) -> tuple[client.Configuration, ConnectionSource]:
    """Build the client configuration for `source`; also name the kubeconfig context used.

    Raises:
        ConfigurationError: The source cannot be loaded (unreadable file, unknown context...).
    """
    configuration = client.Configuration()
    try:
        if source.kind is SourceKind.IN_CLUSTER:
            _loaders.load_incluster_config(client_configuration=configuration)
        elif source.kind is SourceKind.KUBECONFIG:
            kubeconfig = str(source.kubeconfig)
            _loaders.load_kube_config(
                config_file=kubeconfig,
                context=source.context,
                client_configuration=configuration,
                persist_config=False,  # never rewrite the operator's kubeconfig on token refresh
            )
            if source.context is None:
                _, active = _loaders.list_kube_config_contexts(config_file=kubeconfig)
                source = ConnectionSource(
                    SourceKind.KUBECONFIG, kubeconfig=source.kubeconfig, context=active["name"]
                )
        elif source.url is not None:
            _configure_url(configuration, source.url, settings)
    except (ConfigException, OSError, KeyError, TypeError) as error:
        raise ConfigurationError(f"cannot load {source.describe()}: {error}") from error
    # Retries belong to the adapter's one policy (tenacity), not to urllib3 underneath it.
    configuration.retries = False
    return configuration, source


def _configure_url(configuration: client.Configuration, url: str, settings: KubeConnection) -> None:
    configuration.host = url
    if settings.token is not None:
        configuration.api_key = {"authorization": settings.token.get_secret_value()}
        configuration.api_key_prefix = {"authorization": "Bearer"}
    configuration.verify_ssl = not settings.insecure_skip_tls_verify
    if settings.ca_cert is not None:
        configuration.ssl_ca_cert = str(settings.ca_cert)


def connect(
    settings: KubeConnection | None = None, *, environ: Mapping[str, str] | None = None
) -> Kube:
    """Connect to the cluster the settings (or the surroundings) name.

    Args:
        settings: Connection settings; defaults to automatic discovery.
        environ: Environment to discover from (defaults to the process environment).

    Returns:
        A `Kube` facade; its ``source`` says where the configuration came from.

    Raises:
        ConfigurationError: No usable configuration.
    """
    settings = settings or KubeConnection()
    surroundings = find_surroundings(os.environ if environ is None else environ)
    configuration, source = load_configuration(choose_source(settings, surroundings), settings)
    return Kube(
        client.ApiClient(configuration),
        request_timeout_seconds=settings.request_timeout_seconds,
        exec_timeout_seconds=settings.exec_timeout_seconds,
        retry_policy=settings.retry,
        source=source,
    )
