"""Shared fixtures: a simulated cluster served over real HTTP, and its kubeconfigs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from simcluster.server import SimServer


@pytest.fixture
def sim() -> Iterator[SimServer]:
    """A fresh simulated cluster (the default healthy scenario) served on 127.0.0.1."""
    with SimServer() as server:
        yield server


@pytest.fixture
def admin_kubeconfig(sim: SimServer, tmp_path: Path) -> Path:
    """A kubeconfig for the cluster's administrator (everything allowed)."""
    return sim.write_kubeconfig(tmp_path / "admin.kubeconfig", user="admin")


@pytest.fixture
def engine_kubeconfig(sim: SimServer, tmp_path: Path) -> Path:
    """A kubeconfig for the engine's ServiceAccount (RBAC from deploy/rbac enforced)."""
    return sim.write_kubeconfig(tmp_path / "engine.kubeconfig", user="engine")
