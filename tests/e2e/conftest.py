"""Fixtures of the end-to-end tests: one stack for the package, an Alertmanager per test."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from simcluster.manifests import service
from simcluster.server import SimServer
from tests.e2e.alert_stack import BINARY, CASE_SERVICES, HTTP_PORTS, ROUTE, Stack
from tests.e2e.alertmanager_process import Alertmanager, running_alertmanager
from tests.e2e.prefect_environment import local_prefect
from tests.e2e.served_engine import TOKEN, ServedEngine, simulated_access


@pytest.fixture(scope="package")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Prefect, the simulated cluster and the engine, shared by the end-to-end tests."""
    workdir = tmp_path_factory.mktemp("alert-path")
    with ExitStack() as parts:
        prefect = parts.enter_context(local_prefect(workdir / "prefect"))
        sim = parts.enter_context(SimServer())
        for name, app in CASE_SERVICES.items():
            sim.cluster.create(service("shop", name, ports=HTTP_PORTS, selector={"app": app}))
        sim.cluster.settle()
        kubeconfig = sim.write_kubeconfig(workdir / "engine.kubeconfig", user="engine")
        engine = ServedEngine(access=simulated_access(kubeconfig))
        engine.start()
        parts.callback(engine.stop)
        yield Stack(prefect=prefect, engine=engine, sim=sim)


@pytest.fixture
def alertmanager(stack: Stack, tmp_path: Path) -> Iterator[Alertmanager]:
    """An Alertmanager of the test's own, sending to the engine."""
    assert BINARY is not None
    with running_alertmanager(
        tmp_path, webhook_url=stack.engine.webhook_url, token=TOKEN, binary=BINARY, route=ROUTE
    ) as running:
        yield running
