"""Where the cluster configuration comes from: in-cluster, a kubeconfig, or a URL (pure choice)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from integrations.kubernetes.errors import ConfigurationError
from integrations.kubernetes.settings import KubeConnection

_SERVICE_ACCOUNT_TOKEN = Path("/var/run/secrets/kubernetes.io/serviceaccount/token")


class SourceKind(StrEnum):
    """Where the cluster configuration came from."""

    IN_CLUSTER = "in-cluster"
    KUBECONFIG = "kubeconfig"
    URL = "url"


@dataclass(frozen=True, slots=True)
class ConnectionSource:
    """The configuration source `connect` used, for the CLI to announce."""

    kind: SourceKind
    kubeconfig: Path | None = None
    context: str | None = None
    url: str | None = None

    def describe(self) -> str:
        """One line naming the source, e.g. ``kubeconfig /root/.kube/config (context sim)``."""
        if self.kind is SourceKind.IN_CLUSTER:
            return "in-cluster service account"
        if self.kind is SourceKind.KUBECONFIG:
            context = f"context {self.context}" if self.context else "current context"
            return f"kubeconfig {self.kubeconfig} ({context})"
        return f"url {self.url}"


@dataclass(frozen=True, slots=True)
class Surroundings:
    """What the process can find around it without being told."""

    in_cluster: bool
    default_kubeconfig: Path | None


def find_surroundings(environ: Mapping[str, str]) -> Surroundings:
    """Look for a pod's service account and for a default kubeconfig ($KUBECONFIG, ~/.kube)."""
    in_cluster = (
        bool(environ.get("KUBERNETES_SERVICE_HOST"))
        and bool(environ.get("KUBERNETES_SERVICE_PORT"))
        and _SERVICE_ACCOUNT_TOKEN.is_file()
    )
    candidates = [Path(p) for p in environ.get("KUBECONFIG", "").split(os.pathsep) if p]
    if environ.get("HOME"):
        candidates.append(Path(environ["HOME"]) / ".kube" / "config")
    found = next((path for path in candidates if path.is_file()), None)
    return Surroundings(in_cluster=in_cluster, default_kubeconfig=found)


def choose_source(settings: KubeConnection, surroundings: Surroundings) -> ConnectionSource:
    """Decide which configuration source to use.

    Order: the in-cluster service account, then a kubeconfig, then the URL. What the settings
    name explicitly beats what is merely around: an explicit kubeconfig/context or URL skips
    in-cluster config, and an explicit URL skips a default kubeconfig.

    Raises:
        ConfigurationError: Nothing names or surrounds a cluster.
    """
    explicit_kubeconfig = settings.kubeconfig is not None or settings.context is not None
    if surroundings.in_cluster and not explicit_kubeconfig and settings.url is None:
        return ConnectionSource(SourceKind.IN_CLUSTER)
    if explicit_kubeconfig or (settings.url is None and surroundings.default_kubeconfig):
        path = settings.kubeconfig or surroundings.default_kubeconfig
        if path is None:
            raise ConfigurationError("a kubeconfig context was given but no kubeconfig was found")
        return ConnectionSource(SourceKind.KUBECONFIG, kubeconfig=path, context=settings.context)
    if settings.url is not None:
        return ConnectionSource(SourceKind.URL, url=settings.url)
    raise ConfigurationError(
        "no cluster configured: not in a pod, no kubeconfig found, and no url given"
    )
