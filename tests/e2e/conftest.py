"""Fixtures of the end-to-end tests: one stack for the package, an Alertmanager per test."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from engine.startup import SlackApprovals
from integrations.slack import SlackCredentials
from simcluster.manifests import service
from simcluster.server import SimServer
from tests.e2e.alert_stack import (
    BINARY,
    CASE_SERVICES,
    HTTP_PORTS,
    MISMATCHED_SERVICE,
    ROUTE,
    Stack,
)
from tests.e2e.alertmanager_process import Alertmanager, running_alertmanager
from tests.e2e.prefect_environment import local_prefect
from tests.e2e.served_engine import TOKEN, ServedEngine, simulated_access
from tests.slack_fake import FakeSlack
from tests.slack_press import SIGNING_SECRET


@pytest.fixture(scope="package")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Prefect, the simulated cluster and the engine, shared by the end-to-end tests."""
    workdir = tmp_path_factory.mktemp("alert-path")
    with ExitStack() as parts:
        prefect = parts.enter_context(local_prefect(workdir / "prefect"))
        sim = parts.enter_context(SimServer())
        for name, app in CASE_SERVICES.items():
            sim.cluster.create(service("shop", name, ports=HTTP_PORTS, selector={"app": app}))
        mismatched = {"app": "web-v2"}
        sim.cluster.create(
            service("shop", MISMATCHED_SERVICE, ports=HTTP_PORTS, selector=mismatched)
        )
        sim.cluster.settle()
        kubeconfig = sim.write_kubeconfig(workdir / "engine.kubeconfig", user="engine")
        slack = parts.enter_context(FakeSlack(token="xoxb-test"))
        credentials = SlackCredentials(
            bot_token="xoxb-test",
            signing_secret=SIGNING_SECRET,
            channel="C0123ABC",
            api_url=slack.base_url,
        )
        engine = ServedEngine(
            access=simulated_access(kubeconfig),
            slack=SlackApprovals(
                credentials,
                approvers=frozenset({"U0123ABCD"}),
                ui_url=prefect.api_url.removesuffix("/api"),
            ),
        )
        engine.start()
        parts.callback(engine.stop)
        yield Stack(prefect=prefect, engine=engine, sim=sim, slack=slack)


@pytest.fixture
def alertmanager(stack: Stack, tmp_path: Path) -> Iterator[Alertmanager]:
    """An Alertmanager of the test's own, sending to the engine."""
    assert BINARY is not None
    with running_alertmanager(
        tmp_path, webhook_url=stack.engine.webhook_url, token=TOKEN, binary=BINARY, route=ROUTE
    ) as running:
        yield running
