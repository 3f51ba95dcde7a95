"""Pure DaemonSet decisions: rolling-update batches, creation and status counters."""

from __future__ import annotations

import pytest

from simcluster.controllers.rollout import (
    NodePods,
    PodSummary,
    daemon_status,
    plan_daemonset,
    scaled_value,
)


def _node(name: str, *, updated: bool = False, available: bool = True) -> NodePods:
    return NodePods(name, True, (PodSummary(f"p-{name}", updated=updated, available=available),))


@pytest.mark.parametrize(
    ("value", "total", "expected"),
    [(None, 5, 1), (2, 5, 2), ("25%", 5, 2), ("10%", 5, 1), ("100%", 3, 3), ("0%", 3, 0)],
)
def test_max_unavailable_resolves_ints_and_rounds_percentages_up(
    value: int | str | None, total: int, expected: int
) -> None:
    assert scaled_value(value, total) == expected


@pytest.mark.parametrize(
    ("nodes", "max_unavailable", "deleted"),
    [
        # all old and available: one batch of max_unavailable, in node order
        ([_node("a"), _node("b"), _node("c")], 1, ("p-a",)),
        ([_node("a"), _node("b"), _node("c")], 2, ("p-a", "p-b")),
        # one node already lacks an available pod: the budget is used up
        ([_node("a", updated=True, available=False), _node("b"), _node("c")], 1, ()),
        # unavailable old pods are replaced at once, whatever the budget
        ([_node("a", available=False), _node("b"), _node("c")], 1, ("p-a",)),
        # everything updated: nothing to do
        ([_node("a", updated=True), _node("b", updated=True)], 1, ()),
    ],
)
def test_rolling_update_deletes_old_pods_within_max_unavailable(
    nodes: list[NodePods], max_unavailable: int, deleted: tuple[str, ...]
) -> None:
    plan = plan_daemonset(nodes, max_unavailable=max_unavailable, rolling=True)
    assert plan.delete == deleted
    assert plan.create_on == ()


def test_on_delete_strategy_never_deletes_old_pods() -> None:
    plan = plan_daemonset([_node("a"), _node("b")], max_unavailable=1, rolling=False)
    assert plan.delete == ()


def test_nodes_without_a_pod_get_one_and_ineligible_nodes_lose_theirs() -> None:
    nodes = [
        NodePods("a", True),
        NodePods("b", False, (PodSummary("p-b", updated=True, available=True),)),
    ]
    plan = plan_daemonset(nodes, max_unavailable=1, rolling=True)
    assert plan.create_on == ("a",)
    assert plan.delete == ("p-b",)


def test_a_node_with_two_pods_keeps_the_updated_one() -> None:
    pods = (
        PodSummary("old", updated=False, available=True, created="1"),
        PodSummary("new", updated=True, available=True, created="2"),
    )
    plan = plan_daemonset([NodePods("a", True, pods)], max_unavailable=1, rolling=True)
    assert plan.delete == ("old",)


def test_status_counts_scheduled_ready_updated_and_misscheduled_pods() -> None:
    nodes = [
        _node("a", updated=True),
        _node("b", available=False),
        NodePods("c", True),
        NodePods("d", False, (PodSummary("p-d", updated=True, available=True),)),
    ]
    status = daemon_status(nodes, generation=3, ready=2)
    assert status == {
        "currentNumberScheduled": 2,
        "desiredNumberScheduled": 3,
        "numberMisscheduled": 1,
        "numberReady": 2,
        "numberAvailable": 1,
        "numberUnavailable": 2,
        "updatedNumberScheduled": 1,
        "observedGeneration": 3,
    }
