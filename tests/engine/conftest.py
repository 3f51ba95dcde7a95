"""Fixtures for the Prefect side of the engine: a real local Prefect server and our deployments."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from pathlib import Path
from uuid import UUID

import pytest

from engine.deployments import DeploymentSpec, register_deployments
from tests.engine.sample_flows import (
    gated_flow,
    record_async_flow,
    record_flow,
    suspending_flow,
)

FAKE_KUBECONFIG = """\
apiVersion: v1
kind: Config
clusters:
- name: prod
  cluster: {server: "https://10.0.0.1:6443"}
users:
- name: ops
  user: {token: not-a-real-token}
contexts:
- name: prod-eu
  context: {cluster: prod, user: ops}
current-context: prod-eu
"""

SAMPLE_SPECS = (
    DeploymentSpec(
        flow=record_flow,
        name="engine-test-record",
        description="Records an execution (engine tests).",
        tags=("engine-test",),
        parameters={"note": "from the deployment"},
    ),
    DeploymentSpec(flow=record_async_flow, name="engine-test-record-async"),
    DeploymentSpec(flow=gated_flow, name="engine-test-gated"),
    DeploymentSpec(flow=suspending_flow, name="engine-test-suspending"),
)


@pytest.fixture(scope="session")
def deployment_ids(prefect_api_url: str) -> dict[str, UUID]:
    """The sample flows registered as deployments on the session's server."""
    return asyncio.run(register_deployments(SAMPLE_SPECS))


@pytest.fixture
def prod_kubeconfig(tmp_path: Path) -> Path:
    """A kubeconfig naming a production-like cluster, never contacted by these tests."""
    path = tmp_path / "prod.kubeconfig"
    path.write_text(FAKE_KUBECONFIG)
    return path


@pytest.fixture
def taken_port() -> Iterator[int]:
    """A port another process listens on."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        yield other.getsockname()[1]
