"""Restart budgets: a run's own, and an hour's shared by a run and its follow-ups."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from flows.checklist.budgets import (
    HourlyBudget,
    NextWave,
    follow_up_hour,
    next_wave,
    restart_budget,
)
from flows.run_identity import follow_up_tags

T0 = datetime(2026, 12, 3, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    ("nodes", "fraction", "budget"), [(10, 0.2, 2), (3, 0.2, 1), (100, 0.29, 29), (0, 0.2, 1)]
)
def test_a_run_may_restart_its_fraction_of_the_nodes_and_always_one(
    nodes: int, fraction: float, budget: int
) -> None:
    assert restart_budget(nodes, fraction) == budget


@pytest.mark.parametrize(
    ("used", "this_run", "left_after_it"), [(0, 2, 4), (4, 2, 0), (5, 1, 0), (6, 0, 0), (9, 0, 0)]
)
def test_a_run_restarts_at_most_what_its_hour_has_left(
    used: int, this_run: int, left_after_it: int
) -> None:
    budget = HourlyBudget.of(10, run_fraction=0.2, hour_fraction=0.6, used=used)

    assert budget.this_run == this_run
    assert budget.left_after(budget.this_run) == left_after_it


@pytest.mark.parametrize(
    ("hour_started_at", "now", "expected"),
    [
        pytest.param(None, T0 + timedelta(minutes=2), (T0, 2), id="the first run begins the hour"),
        pytest.param(
            T0 - timedelta(minutes=20), T0, (T0 - timedelta(minutes=20), 5), id="within the hour"
        ),
        pytest.param(T0 - timedelta(minutes=61), T0, (T0, 2), id="a new hour counts this run"),
    ],
)
def test_a_follow_up_counts_the_restarts_of_its_hour(
    hour_started_at: datetime | None, now: datetime, expected: tuple[datetime, int]
) -> None:
    assert (
        follow_up_hour(
            hour_started_at=hour_started_at,
            run_started_at=T0,
            now=now,
            used_before=3 if hour_started_at else 0,
            restarted=2,
        )
        == expected
    )


def test_a_follow_up_keeps_its_runs_tags_and_is_marked_as_one() -> None:
    tags = [
        "runbook:kube-proxy-down",
        "cooldown:kube-proxy-down:cluster",
        "follow-up",
        "follow-up-of:a",
    ]

    assert follow_up_tags(tags, of="b") == [
        "runbook:kube-proxy-down",
        "cooldown:kube-proxy-down:cluster",
        "follow-up",
        "follow-up-of:b",
    ]


@pytest.mark.parametrize(
    ("used", "restarted", "wave"),
    [
        pytest.param(0, 2, NextWave(hour_started_at=T0, restarted_this_hour=2), id="room left"),
        pytest.param(4, 2, None, id="the hour spent"),
    ],
)
def test_a_run_that_deferred_nodes_starts_a_next_wave_while_the_hour_allows(
    used: int, restarted: int, wave: NextWave | None
) -> None:
    budget = HourlyBudget.of(10, run_fraction=0.2, hour_fraction=0.6, used=used)

    assert (
        next_wave(
            budget,
            hour_started_at=T0 if used else None,
            run_started_at=T0,
            now=T0 + timedelta(minutes=3),
            restarted=restarted,
        )
        == wave
    )
