"""The Kubernetes REST API of the simulated cluster, as a Starlette (ASGI) application."""

from simcluster.api.app import build_app
from simcluster.api.backend import ClusterBackend

__all__ = ["ClusterBackend", "build_app"]
