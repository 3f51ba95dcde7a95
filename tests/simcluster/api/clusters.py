"""A small simulated cluster for API tests, and official clients for its server."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeAlias

from kubernetes import config

from simcluster import manifests
from simcluster.cluster import SimCluster
from simcluster.rbac import RbacPolicy
from simcluster.server import SimServer
from simcluster.settings import SimSettings
from simcluster.store import Store, format_time

# The official client's generated models declare every field Optional. Tests read back fields
# they have just written, so they use the client through these loose aliases instead of
# asserting each field is not None (which would drown what each test says).
ApiClient: TypeAlias = Any
CoreApi: TypeAlias = Any
AppsApi: TypeAlias = Any
AnyApi: TypeAlias = Any

RBAC_DIR = Path(__file__).resolve().parents[3] / "deploy" / "rbac"
NAMESPACES = ("default", "kube-system", "service-runbooks")


def new_cluster(*, store: Store | None = None, settings: SimSettings | None = None) -> SimCluster:
    """A cluster with the deploy/rbac policy, three namespaces and one Ready node, ``node-1``.

    Args:
        store: The store to use (e.g. one with a short watch history); a new one by default.
        settings: Simulation settings (the defaults when None).
    """
    cluster = SimCluster(store=store, rbac=RbacPolicy.from_directory(RBAC_DIR), settings=settings)
    for namespace in NAMESPACES:
        cluster.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
    cluster.create(manifests.node(1, created=format_time(cluster.clock.now())))
    return cluster


def api_client_for(server: SimServer, path: Path) -> ApiClient:
    """An official-client ApiClient loaded from a kubeconfig the server wrote."""
    return config.new_client_from_config(  # type: ignore[no-untyped-call]  # untyped in the client
        config_file=str(path), context="simcluster"
    )


def api(api_type: Callable[[Any], object], api_client: ApiClient) -> AnyApi:
    """An official-client API object, e.g. ``api(client.CoreV1Api, api_client)``."""
    return api_type(api_client)
