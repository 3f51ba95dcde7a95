"""Fixtures for the flows: their deployments on the session's Prefect server, an engine harness.

The harness plays the engine's composition root: it installs the flow runtime (the engine
user's kubeconfig, the receiver's record as alert source, a recording notifier), and runs the
warm executor and the approval sweeper, which a test may stop and start again (a restart).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable, Collection
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from prefect.client.orchestration import PrefectClient
from prefect.client.schemas.filters import (
    FlowRunFilter,
    FlowRunFilterDeploymentId,
    FlowRunFilterState,
    FlowRunFilterStateType,
)
from prefect.client.schemas.objects import StateType

from engine.deployments import DeploymentSpec, register_deployments
from flows.checklist.flow import DEPLOYMENT_DESCRIPTION, DEPLOYMENT_NAME, service_checklist
from flows.conntrack import flow as conntrack
from flows.conntrack.report import report_key as conntrack_report_key
from flows.rollback import flow as rollback
from flows.rollback.flow import kube_proxy_rollback
from flows.rollback.report import report_key as rollback_report_key
from integrations.kubernetes import Kube, KubeConnection, connect
from simcluster.rbac import RbacPolicy
from simcluster.scenarios import build_cluster
from simcluster.server import DEPLOY_RBAC_DIR, SimServer
from simcluster.settings import SimSettings
from tests.flows.checklist_engine import ChecklistEngine, engine_for

CHECKLIST_SPEC = DeploymentSpec(
    flow=service_checklist, name=DEPLOYMENT_NAME, description=DEPLOYMENT_DESCRIPTION
)
ROLLBACK_SPEC = DeploymentSpec(
    flow=kube_proxy_rollback,
    name=rollback.DEPLOYMENT_NAME,
    description=rollback.DEPLOYMENT_DESCRIPTION,
)
CONNTRACK_SPEC = DeploymentSpec(
    flow=conntrack.conntrack_cleanup,
    name=conntrack.DEPLOYMENT_NAME,
    description=conntrack.DEPLOYMENT_DESCRIPTION,
)
FAST_CLUSTER = SimSettings(
    pod_start_delay=0.05,
    pod_ready_delay=0.05,
    # Long back-offs and probe periods: a crash-looping or failing pod stays so for the whole
    # test unless the flow restarts it, as in a real incident within five minutes.
    crash_backoff_seconds=300,
    probe_period_seconds=300,
)

Launch = Callable[..., Awaitable[ChecklistEngine]]


@pytest.fixture(scope="session")
def checklist_deployment(prefect_api_url: str) -> UUID:
    """The checklist registered as deployment ``service-checklist/service-checklist``."""
    ids = asyncio.run(register_deployments([CHECKLIST_SPEC]))
    return ids[CHECKLIST_SPEC.full_name]


@pytest.fixture(scope="session")
def rollback_deployment(prefect_api_url: str) -> UUID:
    """The kube-proxy rollback registered as deployment ``kube-proxy-rollback/...``."""
    ids = asyncio.run(register_deployments([ROLLBACK_SPEC]))
    return ids[ROLLBACK_SPEC.full_name]


@pytest.fixture(scope="session")
def conntrack_deployment(prefect_api_url: str) -> UUID:
    """The conntrack cleanup registered as deployment ``conntrack-cleanup/...``."""
    ids = asyncio.run(register_deployments([CONNTRACK_SPEC]))
    return ids[CONNTRACK_SPEC.full_name]


@contextlib.asynccontextmanager
async def launcher(
    deployment_id: UUID, client: PrefectClient, tmp_path: Path, **options: Any
) -> AsyncIterator[Launch]:
    """Start simulated clusters (scenario, nodes, RBAC policy, images that crash) with an engine
    over each."""
    started: list[ChecklistEngine] = []

    async def start(
        scenario: str = "healthy",
        *,
        nodes: int = 5,
        rbac: RbacPolicy | None = None,
        crashing_images: Collection[str] = (),
    ) -> ChecklistEngine:
        crashing = FAST_CLUSTER.crashing_images | frozenset(crashing_images)
        settings = dataclasses.replace(FAST_CLUSTER, crashing_images=crashing)
        cluster = build_cluster(nodes=nodes, scenario=scenario, settings=settings)
        cluster.rbac = rbac or RbacPolicy.from_directory(DEPLOY_RBAC_DIR)
        sim = SimServer(cluster).start()
        engine = engine_for(sim, tmp_path, deployment_id, client, **options)
        started.append(engine)
        await engine.start()
        return engine

    try:
        yield start
    finally:
        for engine in started:
            await engine.stop()
            engine.sim.stop()
        await _delete_unfinished_runs(client, deployment_id)


async def _delete_unfinished_runs(client: PrefectClient, deployment_id: UUID) -> None:
    # A run left waiting (an approval nobody answered) would otherwise be taken up by a later
    # test's engine on the same deployment when it times out, and talk to that test's Slack.
    unfinished = await client.read_flow_runs(
        flow_run_filter=FlowRunFilter(
            deployment_id=FlowRunFilterDeploymentId(any_=[deployment_id]),
            state=FlowRunFilterState(
                type=FlowRunFilterStateType(
                    any_=[
                        StateType.SCHEDULED,
                        StateType.PENDING,
                        StateType.RUNNING,
                        StateType.PAUSED,
                    ]
                )
            ),
        )
    )
    for run in unfinished:
        await client.delete_flow_run(run.id)


def as_admin(engine: ChecklistEngine) -> Kube:
    """The cluster's administrator, for what a human does to the cluster during a test."""
    kubeconfig = engine.sim.write_kubeconfig(
        engine.kubeconfig.with_name("admin.kubeconfig"), user="admin"
    )
    return connect(KubeConnection(kubeconfig=kubeconfig))


@pytest.fixture
async def launch(
    checklist_deployment: UUID, prefect_client: PrefectClient, tmp_path: Path
) -> AsyncIterator[Launch]:
    """Start a simulated cluster and an engine running the checklist over it."""
    async with launcher(checklist_deployment, prefect_client, tmp_path) as start:
        yield start


@pytest.fixture
async def launch_rollback(
    rollback_deployment: UUID, prefect_client: PrefectClient, tmp_path: Path
) -> AsyncIterator[Launch]:
    """Start a simulated cluster and an engine running the kube-proxy rollback over it."""
    options = {"flow": kube_proxy_rollback, "report_key_of": rollback_report_key}
    async with launcher(rollback_deployment, prefect_client, tmp_path, **options) as start:
        yield start


@pytest.fixture
async def launch_conntrack(
    conntrack_deployment: UUID, prefect_client: PrefectClient, tmp_path: Path
) -> AsyncIterator[Launch]:
    """Start a simulated cluster and an engine running the conntrack cleanup over it."""
    options = {"flow": conntrack.conntrack_cleanup, "report_key_of": conntrack_report_key}
    async with launcher(conntrack_deployment, prefect_client, tmp_path, **options) as start:
        yield start
