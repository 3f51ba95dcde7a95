"""The preventive flows against a real Prefect server and the simulated cluster over HTTP, as
the engine's ServiceAccount (its RBAC enforced)."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from prefect.client.orchestration import PrefectClient
from prefect.client.schemas.objects import StateType
from prefect.states import Scheduled

from engine.deployments import DeploymentSpec, register_deployments
from flows.maintenance.flow import (
    HEALTH_CHECK,
    cluster_health_check,
    config_backup,
    service_report,
)
from flows.runtime import FlowRuntime, use_runtime
from integrations.kubernetes import KubeConnection, connect
from simcluster.rbac import RbacPolicy
from simcluster.scenarios import build_cluster
from simcluster.server import DEPLOY_RBAC_DIR, SimServer
from tests.flows.conftest import FAST_CLUSTER, launcher
from tests.prefect_runs import create_run_by_hand

Start = Callable[[str], Path]


@pytest.fixture
def cluster(prefect_api_url: str, tmp_path: Path) -> Iterator[Start]:
    """Serve a scenario's cluster and run the test's flows with a runtime on it; the backups."""
    servers: list[SimServer] = []
    runtimes = contextlib.ExitStack()

    def start(scenario: str) -> Path:
        built = build_cluster(nodes=3, scenario=scenario, settings=FAST_CLUSTER)
        built.rbac = RbacPolicy.from_directory(DEPLOY_RBAC_DIR)
        sim = SimServer(built).start()
        servers.append(sim)
        kubeconfig = sim.write_kubeconfig(tmp_path / "engine.kubeconfig", user="engine")
        connection = KubeConnection(kubeconfig=kubeconfig)
        backups = tmp_path / "backups"
        runtime = FlowRuntime(kube_factory=lambda: connect(connection), backup_dir=backups)
        runtimes.enter_context(use_runtime(runtime))
        return backups

    with runtimes:
        yield start
    for sim in servers:
        sim.stop()


def test_a_healthy_cluster_passes_every_check(cluster: Start) -> None:
    cluster("healthy")

    state = cluster_health_check(return_state=True)

    assert state.name == "Healthy", state.message
    assert state.message == "7 checks passed"


def test_kube_proxy_down_on_a_node_makes_the_cluster_unhealthy(cluster: Start) -> None:
    cluster("kube-proxy-down")

    state = cluster_health_check(return_state=True)

    assert state.type is StateType.FAILED
    assert state.name == "Unhealthy"
    assert "kube-proxy pods ready: 1/3 Running and Ready; not ready: kube-proxy-" in (
        state.message or ""
    )


def test_a_service_without_endpoints_is_a_warning_not_a_failure(cluster: Start) -> None:
    cluster("selector-mismatch")

    state = cluster_health_check(return_state=True)

    assert state.name == "Degraded", state.message
    assert "services without ready endpoints: 1: shop/web" in (state.message or "")


def test_the_backup_writes_services_endpoints_and_kube_proxy_and_keeps_the_newest(
    cluster: Start,
) -> None:
    backups = cluster("healthy")

    first = config_backup(keep=1, return_state=True)
    time.sleep(1.1)  # backups are named by the second
    second = config_backup(keep=1, return_state=True)

    assert first.name == second.name == "BackedUp"
    [kept] = [path for path in backups.iterdir() if not path.name.startswith(".")]
    files = {path.name: yaml.safe_load(path.read_text()) for path in kept.iterdir()}
    assert sorted(files) == [
        "endpoints.yaml",
        "kube-proxy-configmap.yaml",
        "kube-proxy-daemonset.yaml",
        "services.yaml",
    ]
    [daemon_set] = files["kube-proxy-daemonset.yaml"]["items"]
    assert daemon_set["metadata"]["name"] == "kube-proxy"
    assert "status" not in daemon_set
    assert "config.conf" in files["kube-proxy-configmap.yaml"]["items"][0]["data"]
    names = {s["metadata"]["name"] for s in files["services.yaml"]["items"]}
    assert {"kube-dns", "web", "checkout"} <= names
    assert len(files["endpoints.yaml"]["items"]) >= len(names) - 1


def test_the_service_report_counts_services_and_those_without_endpoints(cluster: Start) -> None:
    cluster("selector-mismatch")

    state = service_report(return_state=True)

    assert state.name == "Reported"
    assert state.message is not None
    assert state.message.endswith("Services, 1 without ready endpoints")


async def test_a_health_check_run_an_hour_late_is_skipped_as_a_newer_one_covers_it(
    prefect_client: PrefectClient, tmp_path: Path
) -> None:
    spec = DeploymentSpec(flow=cluster_health_check, name=HEALTH_CHECK)
    [deployment_id] = (await register_deployments([spec])).values()
    async with launcher(
        deployment_id, prefect_client, tmp_path, flow=cluster_health_check
    ) as start:
        engine = await start("healthy", nodes=1)
        hour_ago = datetime.now(UTC) - timedelta(hours=1)
        run = await create_run_by_hand(
            prefect_client, deployment_id, state=Scheduled(scheduled_time=hour_ago)
        )

        done = await engine.wait_for(run.id)

    assert done.name == "SkippedLate", done
    assert "60 min ago: skipped" in (done.message or "")
