"""The whole stack the end-to-end alert path tests share, and what they ask of it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.objects import FlowRun

from engine.prefect_server import PrefectServer
from flows.checklist.flow import DEPLOYMENT_NAME, FLOW_NAME
from simcluster.server import SimServer
from tests.e2e.alertmanager_process import Alertmanager, find_alertmanager
from tests.e2e.flow_runs import runs_of_alert, wait_for_runs, wait_until_final
from tests.e2e.served_engine import ServedEngine
from tests.slack_fake import FakeSlack

BINARY = find_alertmanager()

#: The marks of every test that needs the whole stack.
E2E_MARKS = [
    pytest.mark.e2e,
    pytest.mark.timeout(180),
    pytest.mark.skipif(
        BINARY is None,
        reason="the Alertmanager binary (prometheus-alertmanager) is not installed; "
        "scripts/test installs it",
    ),
]

CHECKLIST = f"{FLOW_NAME}/{DEPLOYMENT_NAME}"
REPEAT_SECONDS = 2
#: Alertmanager cancels a notification after max(group_interval, 10 s) (notify.MinTimeout).
ALERTMANAGER_MIN_TIMEOUT = 10.0
#: Fast groups, and a repeat of every firing group every couple of seconds: redelivery.
MUTATING_VERBS = ("create", "update", "patch", "delete", "deletecollection")
ROUTE = {"group_wait": "1s", "group_interval": "1s", "repeat_interval": f"{REPEAT_SECONDS}s"}


#: A runbook's cooldown holds back a second episode on the same target for minutes, so each
#: test alerts on a Service of its own: healthy copies of shop/web and shop/checkout.
CASE_SERVICES = {
    "checkout-redelivery": "checkout",
    "web-resolve": "web",
    "checkout-restart": "checkout",
    "web-outage": "web",
    "web-prompt": "web",
}
#: A Service whose selector is one label value off its pods' (app=web-v2, pods app=web): the
#: checklist proposes the fix, which waits for approval.
MISMATCHED_SERVICE = "web-slack"
HTTP_PORTS = [{"name": "http", "port": 80, "protocol": "TCP", "targetPort": "http"}]


@dataclass(frozen=True)
class Stack:
    """The module's long-lived parts."""

    prefect: PrefectServer
    engine: ServedEngine
    sim: SimServer
    slack: FakeSlack

    @property
    def checklist_id(self) -> UUID:
        return self.engine.deployment_ids[CHECKLIST]


def service_down(service: str) -> dict[str, str]:
    """A ServiceDown alert's labels for Service shop/<service>."""
    return {
        "alertname": "ServiceDown",
        "namespace": "shop",
        "service": service,
        "severity": "critical",
    }


def just_now() -> datetime:
    """A startsAt a moment ago, as Prometheus sends for an alert that just fired."""
    return datetime.now(UTC) - timedelta(seconds=5)


async def eventually(
    condition: Callable[[], Awaitable[bool]],
    *,
    what: str,
    alertmanager: Alertmanager,
    within: float = 30.0,
) -> None:
    """Wait until ``condition`` holds; fail with Alertmanager's log after ``within`` seconds."""
    deadline = time.monotonic() + within
    while not await condition():
        if time.monotonic() > deadline:
            pytest.fail(f"{what} within {within:g}s; Alertmanager log:\n{alertmanager.log_tail()}")
        await asyncio.sleep(0.1)


def outcome(run: FlowRun) -> str:
    """A run's final state: its type and the checklist's outcome message."""
    state = run.state
    return f"{state.type.value}: {state.message}" if state is not None else "no state"


def mutations(sim: SimServer) -> int:
    """Mutating Kubernetes API requests the simulated cluster has served so far."""
    return sum(sim.cluster.requests.total(verb=verb) for verb in MUTATING_VERBS)


async def the_only_run(stack: Stack, fingerprint: str) -> FlowRun:
    """The alert's single run, after a few more deliveries had the chance to add another."""
    async with get_client() as client:
        await wait_for_runs(client, stack.checklist_id, [fingerprint])
        await asyncio.sleep(2 * REPEAT_SECONDS + 1)
        runs = await runs_of_alert(client, stack.checklist_id, fingerprint)
        assert len(runs) == 1, [run.id for run in runs]
        [final] = await wait_until_final(client, [runs[0].id])
    return final
