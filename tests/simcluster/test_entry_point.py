"""The package's public entry point is what the engine starts a simulated cluster with."""

from __future__ import annotations

import simcluster
from simcluster import rbac, scenarios, server


def test_the_entry_point_exports_what_the_engine_uses() -> None:
    assert {"SimServer", "DEPLOY_RBAC_DIR", "RbacPolicy", "build_cluster", "SCENARIOS"} <= set(
        simcluster.__all__
    )
    assert simcluster.SimServer is server.SimServer
    assert simcluster.DEPLOY_RBAC_DIR == server.DEPLOY_RBAC_DIR
    assert simcluster.RbacPolicy is rbac.RbacPolicy
    assert simcluster.build_cluster is scenarios.build_cluster
    assert simcluster.SCENARIOS is scenarios.SCENARIOS


def test_every_exported_name_exists() -> None:
    assert all(hasattr(simcluster, name) for name in simcluster.__all__)
