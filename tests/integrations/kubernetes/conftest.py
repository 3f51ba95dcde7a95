"""Fixtures: `Kube` facades connected to the simulated cluster through real HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from integrations.kubernetes import Kube, KubeConnection, RetryPolicy, connect

FAST_RETRIES = RetryPolicy(
    max_attempts=3, max_total_seconds=5.0, initial_backoff_seconds=0.01, max_backoff_seconds=0.05
)


def connect_with(kubeconfig: Path, **overrides: object) -> Kube:
    """Connect through a kubeconfig the simulated cluster wrote, with quick retries."""
    settings = KubeConnection.model_validate(
        {"kubeconfig": kubeconfig, "request_timeout_seconds": 10.0, "retry": FAST_RETRIES}
        | overrides
    )
    return connect(settings, environ={})


@pytest.fixture
def admin_kube(admin_kubeconfig: Path) -> Iterator[Kube]:
    """The cluster as ``system:admin`` (everything allowed)."""
    with connect_with(admin_kubeconfig) as kube:
        yield kube


@pytest.fixture
def engine_kube(engine_kubeconfig: Path) -> Iterator[Kube]:
    """The cluster as the engine's ServiceAccount (deploy/rbac enforced)."""
    with connect_with(engine_kubeconfig) as kube:
        yield kube
