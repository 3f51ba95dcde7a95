"""The fault matrix's quick rows (`bench.faults`): a fault at its point, 0 lost, 0 twice."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bench.faults.cases import (
    API_FAULTS,
    PREFECT_RESTART_WHILE_SUSPENDED,
    SLACK_FAULTS,
)
from bench.faults.matrix import Row
from bench.faults.plan import Plan, run_plan
from bench.faults.rig import FaultBench, fault_bench
from bench.faults.scenarios import KUBE_PROXY_WAVE, SERVICE_SELECTOR, FlowScenario
from tests.e2e.alert_stack import E2E_MARKS

pytestmark = E2E_MARKS


@pytest.fixture(scope="module")
def bench(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FaultBench]:
    """A Prefect server of the module's own (rows restart it)."""
    with fault_bench(tmp_path_factory.mktemp("fault-matrix")) as shared:
        yield shared


def row_of(plans: tuple[Plan, ...], case: str, scenario: FlowScenario) -> Plan:
    """The plan of ``case`` for ``scenario`` among ``plans``."""
    [plan] = [p for p in plans if p.case == case and p.scenario is scenario]
    return plan


def assert_met(row: Row) -> None:
    """0 lost, 0 twice, 0 stuck, and the one run in the named state it should end in."""
    assert (row.alerts_lost, row.runs_lost, row.actions_twice) == (0, 0, 0), row
    assert (row.runs_not_final, row.unnamed) == (0, 0), row
    assert row.final_states == ((row.expected, 1),), row


async def test_a_checklist_waiting_for_approval_across_a_prefect_restart_recovers_once_approved(
    bench: FaultBench,
) -> None:
    plan = row_of(PREFECT_RESTART_WHILE_SUSPENDED, "2 Prefect restart, suspended", SERVICE_SELECTOR)

    row = await run_plan(bench, plan, name="prefect-restart-suspended")

    assert_met(row)
    assert row.alerts_sent == 1
    assert dict(row.changes) == {"write Service": 1}, row


async def test_a_kube_proxy_restart_wave_under_api_throttling_and_errors_restarts_each_pod_once(
    bench: FaultBench,
) -> None:
    plan = row_of(API_FAULTS, "5 API 429/500", KUBE_PROXY_WAVE)

    row = await run_plan(bench, plan, name="api-flaky-wave")

    assert_met(row)
    assert dict(row.changes) == {"delete pod": 2}, row


async def test_slack_throttling_and_errors_on_post_and_update_do_not_lose_the_approval(
    bench: FaultBench,
) -> None:
    plan = row_of(SLACK_FAULTS, "6 Slack 429/5xx", SERVICE_SELECTOR)

    row = await run_plan(bench, plan, name="slack-429-5xx")

    assert_met(row)
    assert dict(row.changes) == {"write Service": 1}, row
