"""Planning kube-proxy restarts: only unhealthy pods, in waves, within the budget, approved."""

from __future__ import annotations

from dataclasses import replace

import pytest

from flows.checklist import (
    ChecklistParameters,
    NoteKind,
    Observation,
    Plan,
    RestartKubeProxyPod,
    Scope,
)
from flows.checklist.budgets import restart_budget
from runbooks.approval import ApprovalPolicy
from tests.flows.checklist.builders import (
    IPTABLES_ERROR,
    cluster_wide,
    healthy,
    kube_proxy,
    nodes,
    plan_for,
    proxy,
)

CLUSTER = ChecklistParameters(scope=Scope.CLUSTER)


def broken_proxies(node_count: int, broken: tuple[int, ...]) -> Observation:
    pods = {f"node_{i}": proxy(f"node-{i}", crash=True) for i in broken}
    return cluster_wide(node_count, **pods)


def restarted_nodes(result: Plan) -> list[tuple[str, int]]:
    return [(a.node, a.wave) for a in result.actions if isinstance(a, RestartKubeProxyPod)]


@pytest.mark.parametrize(
    ("total", "fraction", "budget"),
    [(10, 0.2, 2), (3, 0.2, 1), (0, 0.2, 1), (100, 0.29, 29), (4, 0.5, 2), (1, 0.5, 1)],
)
def test_the_budget_is_rounded_down_but_at_least_one(
    total: int, fraction: float, budget: int
) -> None:
    assert restart_budget(total, fraction) == budget


def test_a_healthy_service_gets_an_empty_plan_with_a_no_action_note() -> None:
    result = plan_for(healthy())

    assert result.actions == ()
    assert [n.kind for n in result.notes] == [NoteKind.NO_ACTION]


@pytest.mark.parametrize(
    ("node_count", "broken", "parallelism", "restarted", "deferred"),
    [
        pytest.param(10, (2, 5, 7, 9, 10), 1, [("node-2", 0), ("node-5", 1)], 3, id="20% of 10"),
        pytest.param(10, (2, 5), 2, [("node-2", 0), ("node-5", 0)], 0, id="a wave of two"),
        pytest.param(3, (1, 3), 1, [("node-1", 0)], 1, id="at least one of three"),
        pytest.param(5, (), 1, [], 0, id="nothing broken"),
    ],
)
def test_kube_proxy_restarts_stay_within_the_budget_one_wave_at_a_time(
    node_count: int,
    broken: tuple[int, ...],
    parallelism: int,
    restarted: list[tuple[str, int]],
    deferred: int,
) -> None:
    params = ChecklistParameters(
        scope=Scope.CLUSTER,
        kube_proxy_restart_parallelism=parallelism,
    )

    result = plan_for(broken_proxies(node_count, broken), params)

    assert restarted_nodes(result) == restarted
    assert len(result.deferred_nodes) == deferred
    assert [n.kind for n in result.notes].count(NoteKind.DEFERRED) == (1 if deferred else 0)


def test_pods_serving_nothing_restart_before_pods_that_only_log_errors() -> None:
    observation = cluster_wide(
        10, node_1=proxy("node-1", errors=(IPTABLES_ERROR,)), node_9=proxy("node-9", ready=False)
    )

    assert restarted_nodes(plan_for(observation, CLUSTER)) == [("node-9", 0), ("node-1", 1)]


def test_a_kube_proxy_on_a_not_ready_node_is_left_to_a_human() -> None:
    observation = replace(
        cluster_wide(5, node_2=proxy("node-2", ready=False)), nodes=nodes(5, not_ready=("node-2",))
    )

    result = plan_for(observation, CLUSTER)

    assert restarted_nodes(result) == []
    assert any("node node-2 is not Ready" in n.text for n in result.notes)


@pytest.mark.parametrize(
    ("instance", "restarted"),
    [
        pytest.param(
            "10.0.0.3:10249", [("node-3", 0)], id="its own node, though node-2 sorts first"
        ),
        pytest.param("10.0.0.2:10249", [("node-2", 0)], id="its own node, first anyway"),
    ],
)
def test_an_owner_planning_every_node_restarts_its_alerts_node_first(
    instance: str, restarted: list[tuple[str, int]]
) -> None:
    # A node-scoped run that owns the kube-proxy incident plans every node; one restart in its
    # budget must not be spent on another node while the one it verifies waits.
    observation = replace(broken_proxies(3, (2, 3)), instance=instance, kube_proxy_everywhere=True)
    params = ChecklistParameters(scope=Scope.NODE, instance=instance)

    result = plan_for(observation, params)

    assert restarted_nodes(result) == restarted
    assert len(result.deferred_nodes) == 1


def test_node_scope_restarts_only_the_named_node() -> None:
    observation = replace(broken_proxies(3, (1, 2)), instance="10.0.0.2:10249")
    params = ChecklistParameters(scope=Scope.NODE, instance="10.0.0.2:10249")

    assert restarted_nodes(plan_for(observation, params)) == [("node-2", 0)]


@pytest.mark.parametrize(
    ("policy", "drill", "needs_approval"),
    [
        pytest.param({}, False, True, id="unlisted: required"),
        pytest.param({"auto_approve_for_drills": True}, True, False, id="drill allowed"),
        pytest.param({"auto_approve_for_drills": False}, True, True, id="drill not allowed"),
        pytest.param({"auto_approve_for_drills": True}, False, True, id="not a drill"),
        pytest.param({"actions": {"restart_kube_proxy_pod": "auto"}}, False, False, id="auto"),
    ],
)
def test_approval_follows_the_runbook_policy_and_the_drill_flag(
    policy: dict[str, object], drill: bool, needs_approval: bool
) -> None:
    params = ChecklistParameters(scope=Scope.CLUSTER, auto_approve=drill)

    result = plan_for(broken_proxies(3, (1,)), params, ApprovalPolicy.model_validate(policy))

    (restart,) = [a for a in result.actions if isinstance(a, RestartKubeProxyPod)]
    assert restart.needs_approval is needs_approval


def test_a_stuck_rollout_is_recommended_for_rollback_not_restarted() -> None:
    state = kube_proxy(
        3,
        updated=1,
        broken={
            "node-1": proxy("node-1", crash=True, updated=True),
            "node-3": proxy("node-3", ready=False, updated=False),
        },
    )

    result = plan_for(replace(cluster_wide(3), kube_proxy=state), CLUSTER)

    assert restarted_nodes(result) == [("node-3", 0)]
    (rollback,) = [n for n in result.notes if n.kind is NoteKind.RECOMMEND_ROLLBACK]
    assert "kube-proxy-rollback/kube-proxy-rollback" in rollback.text


@pytest.mark.parametrize(
    ("restarted_this_hour", "restarted", "note"),
    [
        pytest.param(
            0,
            [("node-2", 0), ("node-5", 1)],
            "kube-proxy needs a restart on 3 more node(s), over this run's budget of 2 of 10 "
            "nodes; once these are verified, a follow-up run restarts them, within the hour's "
            "budget of 6 nodes (4 left)",
            id="a fresh hour",
        ),
        pytest.param(
            4,
            [("node-2", 0), ("node-5", 1)],
            "kube-proxy needs a restart on 3 more node(s), over this run's budget of 2 of 10 "
            "nodes; this hour's budget of 6 nodes is then spent: run the checklist again later",
            id="the hour's last wave",
        ),
        pytest.param(
            5,
            [("node-2", 0)],
            "kube-proxy needs a restart on 4 more node(s), over this run's budget of 1 of 10 "
            "nodes; this hour's budget of 6 nodes is then spent: run the checklist again later",
            id="less than a run's budget left",
        ),
        pytest.param(
            6,
            [],
            "kube-proxy needs a restart on 5 more node(s), but this hour's budget of 6 of 10 "
            "nodes is spent (6 restarted): run the checklist again later",
            id="the hour spent",
        ),
    ],
)
def test_a_follow_up_restarts_within_what_the_hour_has_left(
    restarted_this_hour: int, restarted: list[tuple[str, int]], note: str
) -> None:
    params = ChecklistParameters(
        scope=Scope.CLUSTER,
        kube_proxy_restart_hourly_budget_fraction=0.6,
        restarted_this_hour=restarted_this_hour,
    )

    result = plan_for(broken_proxies(10, (2, 5, 7, 9, 10)), params)

    assert restarted_nodes(result) == restarted
    [deferred] = [n for n in result.notes if n.kind is NoteKind.DEFERRED]
    assert deferred.text == note
