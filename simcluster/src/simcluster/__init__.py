"""A stateful simulated Kubernetes cluster that serves the Kubernetes REST API over HTTP."""

# The public entry point, all the engine may use to start it for demos and drills: build a
# seeded cluster (`build_cluster`, one of `SCENARIOS`), give it a policy (`RbacPolicy`, e.g.
# from `DEPLOY_RBAC_DIR`) and serve it (`SimServer`). Tests reach into the modules themselves.

from simcluster.cluster import SimCluster
from simcluster.rbac import RbacPolicy
from simcluster.scenarios import SCENARIOS, Scenario, build_cluster
from simcluster.server import DEPLOY_RBAC_DIR, SimServer

__all__ = [
    "DEPLOY_RBAC_DIR",
    "SCENARIOS",
    "RbacPolicy",
    "Scenario",
    "SimCluster",
    "SimServer",
    "build_cluster",
]
