"""The incident storm's rig: a simulated cluster with kube-proxy wedged, and the whole engine.

Each serves from a process of its own, as in a cluster: the API server's work (and
kube-proxy's, and the controllers') is not done in the engine's process, and the benchmark's
process is the load generator, as Alertmanager is.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path

from bench.harness import CHECKLIST, child_process
from bench.postgres import running_postgres
from engine.responsive import settle_for_serving
from simcluster import manifests
from simcluster.rbac import RbacPolicy
from simcluster.scenarios import build_cluster
from simcluster.server import DEPLOY_RBAC_DIR, SimServer
from simcluster.settings import SimSettings
from tests.e2e.prefect_environment import local_prefect
from tests.e2e.served_engine import ServedEngine, simulated_access

NAMESPACE = "storm"
HTTP = [{"name": "http", "containerPort": 8080, "protocol": "TCP"}]
PORTS = [{"name": "http", "port": 80, "protocol": "TCP", "targetPort": "http"}]
CLUSTER_SETTINGS = SimSettings(
    pod_start_delay=0.05,
    pod_ready_delay=0.05,
    crash_backoff_seconds=300,
    probe_period_seconds=300,
)


@dataclass(frozen=True)
class Shape:
    """The incident: cluster size, broken nodes, Services."""

    nodes: int
    broken: int
    services: int


@dataclass(frozen=True)
class Endpoints:
    """Where the child's engine and Prefect listen, and its process id (picklable)."""

    url: str
    api_url: str
    checklist_id: str
    pid: int


def _cluster(shape: Shape) -> SimServer:
    cluster = build_cluster(nodes=shape.nodes, settings=CLUSTER_SETTINGS)
    cluster.rbac = RbacPolicy.from_directory(DEPLOY_RBAC_DIR)
    cluster.create(manifests.namespace(NAMESPACE))
    cluster.create(
        manifests.deployment(
            NAMESPACE, "web", image="registry.example.com/web:1", replicas=3, ports=HTTP
        )
    )
    for number in range(shape.services):
        cluster.create(
            manifests.service(NAMESPACE, f"svc-{number}", ports=PORTS, selector={"app": "web"})
        )
    cluster.settle(timeout=30.0)
    cluster.faults.kube_proxy_down([f"node-{n}" for n in range(1, shape.broken + 1)])
    cluster.settle(timeout=5.0)
    return SimServer(cluster)


@contextmanager
def _engine(workdir: Path, kubeconfig: Path, database: str) -> Iterator[tuple[ServedEngine, str]]:
    with ExitStack() as parts:
        server_settings = None
        if database == "postgres":
            url = parts.enter_context(running_postgres())
            server_settings = {"PREFECT_API_DATABASE_CONNECTION_URL": url}
        prefect = parts.enter_context(
            local_prefect(workdir / "prefect", server_settings=server_settings)
        )
        engine = ServedEngine(access=simulated_access(kubeconfig))
        engine.start()
        settle_for_serving()  # as `runbooks up` does once the engine is assembled
        parts.callback(engine.stop)
        yield engine, prefect.api_url


def _serve_cluster(workdir: Path, shape: Shape, pipe: Connection) -> None:
    with _cluster(shape) as sim:
        pipe.send(sim.write_kubeconfig(workdir / "engine.kubeconfig", user="engine"))
        while (message := pipe.recv()) != "stop":
            if message == "deletions":
                pipe.send(sim.cluster.requests.total(verb="delete", resource="pods"))


def _serve(workdir: Path, kubeconfig: Path, database: str, pipe: Connection) -> None:
    with _engine(workdir, kubeconfig, database) as (engine, api_url):
        checklist = str(engine.deployment_ids[CHECKLIST])
        pipe.send(Endpoints(engine.url, api_url, checklist, os.getpid()))
        while pipe.recv() != "stop":
            pass


@contextmanager
def engine_process(
    workdir: Path, shape: Shape, database: str
) -> Iterator[tuple[Endpoints, Connection]]:
    """The simulated cluster and the engine, each in a process of its own.

    As in a cluster, the API server's work (and kube-proxy's, and the controllers') is not
    done in the engine's process; this one is the load generator, as Alertmanager is.

    Yields:
        Where the engine listens, and the cluster's pipe (it answers ``"deletions"``).
    """
    with (
        child_process(
            _serve_cluster, (workdir, shape), name="bench-cluster", startup_timeout=300
        ) as (kubeconfig, cluster),
        child_process(
            _serve, (workdir, kubeconfig, database), name="bench-engine", startup_timeout=300
        ) as (endpoints, _),
    ):
        yield endpoints, cluster
