"""Which Kubernetes cluster the engine works on: the configured one, or a simulated one."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

from engine.settings import EngineSettings
from integrations.kubernetes import ConfigurationError, KubeConnection, connect


@dataclass(frozen=True)
class ClusterAccess:
    """How the engine reaches its cluster.

    Attributes:
        connection: What flows and readiness checks connect with.
        description: One line naming the source, for the startup banner.
        simulated: True when the engine started a simulated cluster itself.
        admin_kubeconfig: For a simulated cluster, a kubeconfig a human can use with kubectl.
        server: The API server's URL the engine acts on (empty: not told).
        context: The kubeconfig context used (None: no kubeconfig, or not told).
    """

    connection: KubeConnection
    description: str
    simulated: bool
    admin_kubeconfig: str | None = None
    server: str = ""
    context: str | None = None


#: Said when no cluster is configured and the simulated one is not installed (a production image).
SIMULATOR_MISSING = (
    "no Kubernetes cluster is configured and the simulated cluster is not installed: set "
    "RUNBOOKS_KUBECONFIG (or RUNBOOKS_KUBE_URL and RUNBOOKS_KUBE_TOKEN), run in a pod with a "
    "ServiceAccount, or install the simulator for demos (the `sim` extra: "
    "pip install 'service-runbooks[sim]')"
)


@contextlib.contextmanager
def cluster_access(settings: EngineSettings) -> Iterator[ClusterAccess]:
    """Use the configured cluster, or start the simulated one for the duration.

    ``RUNBOOKS_SIMULATE=true`` forces the simulation; ``false`` forbids it (then a missing
    configuration is an error); unset simulates only when no cluster is configured at all.

    Raises:
        ConfigurationError: no cluster is configured and simulation is forbidden.
    """
    configured = configured_cluster(settings)
    if configured is not None:
        yield configured
        return
    with simulated_cluster(settings) as access:
        yield access


def configured_cluster(settings: EngineSettings) -> ClusterAccess | None:
    """The configured cluster, or None when the engine is to simulate one (`cluster_access`).

    Reads the configuration only (no request to the API server), so ``runbooks up`` knows at
    once whether the simulated cluster's port will be needed.

    Raises:
        ConfigurationError: no cluster is configured and simulation is forbidden.
    """
    if settings.simulate is True:
        return None
    connection = settings.connection()
    try:
        with connect(connection) as kube:
            source, server = kube.source, kube.server
    except ConfigurationError:
        if settings.simulate is False:
            raise
        return None
    return ClusterAccess(
        connection=connection,
        description=source.describe() if source else "configured cluster",
        simulated=False,
        server=server,
        context=source.context if source else None,
    )


@contextlib.contextmanager
def simulated_cluster(settings: EngineSettings) -> Iterator[ClusterAccess]:
    """Serve a simulated cluster for the duration, with kubeconfigs under ``state_dir/sim``.

    Raises:
        ConfigurationError: the simulator is not installed (a production image).
    """
    try:
        from simcluster import DEPLOY_RBAC_DIR, RbacPolicy, SimServer, build_cluster
        from simcluster.kubeconfig import CONTEXT_NAME
    except ModuleNotFoundError as error:
        raise ConfigurationError(SIMULATOR_MISSING) from error

    cluster = build_cluster(nodes=settings.sim_nodes, scenario=settings.sim_scenario)
    if DEPLOY_RBAC_DIR.is_dir():
        cluster.rbac = RbacPolicy.from_directory(DEPLOY_RBAC_DIR)
    # The kubeconfigs name the HTTPS listener: that is the port the setting fixes.
    with SimServer(cluster, https_port=settings.sim_port) as server:
        folder = settings.state_dir / "sim"
        admin = server.write_kubeconfig(folder / "admin.kubeconfig", user="admin")
        engine = server.write_kubeconfig(folder / "engine.kubeconfig", user="engine")
        yield ClusterAccess(
            connection=KubeConnection(kubeconfig=engine),
            description=(
                f"SIMULATED cluster at {server.https_url} "
                f"(scenario {settings.sim_scenario}, {settings.sim_nodes} nodes)"
            ),
            simulated=True,
            admin_kubeconfig=str(admin),
            server=server.https_url,
            context=CONTEXT_NAME,
        )
