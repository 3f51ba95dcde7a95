"""Fixtures: a simulated cluster served over HTTP, and official-client APIs from its kubeconfig."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client

from simcluster.cluster import SimCluster
from simcluster.server import SimServer
from tests.simcluster.api.clusters import (
    ApiClient,
    AppsApi,
    CoreApi,
    api,
    api_client_for,
    new_cluster,
)


@pytest.fixture
def cluster() -> SimCluster:
    """A fresh simulated cluster (see `new_cluster`)."""
    return new_cluster()


@pytest.fixture
def server(cluster: SimCluster) -> Iterator[SimServer]:
    """A running API server for ``cluster`` (its controllers running too)."""
    with SimServer(cluster) as running:
        yield running


@pytest.fixture
def admin_client(server: SimServer, tmp_path: Path) -> Iterator[ApiClient]:
    """An official-client ApiClient authenticated as system:admin."""
    api_client = api_client_for(server, server.write_kubeconfig(tmp_path / "admin", user="admin"))
    yield api_client
    api_client.close()


@pytest.fixture
def engine_client(server: SimServer, tmp_path: Path) -> Iterator[ApiClient]:
    """An official-client ApiClient authenticated as the engine's ServiceAccount."""
    path = server.write_kubeconfig(tmp_path / "engine", user="engine")
    api_client = api_client_for(server, path)
    yield api_client
    api_client.close()


@pytest.fixture
def core(admin_client: ApiClient) -> CoreApi:
    """CoreV1Api as admin."""
    return api(client.CoreV1Api, admin_client)


@pytest.fixture
def apps(admin_client: ApiClient) -> AppsApi:
    """AppsV1Api as admin."""
    return api(client.AppsV1Api, admin_client)
