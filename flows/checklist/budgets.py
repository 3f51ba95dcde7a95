"""Budgets: how many pods a run (and, for kube-proxy, an hour of follow-up runs) may restart."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

HOUR = timedelta(hours=1)


def restart_budget(total: int, fraction: float) -> int:
    """``floor(total * fraction)``, but at least 1: a run may always restart one pod.

    Decimal arithmetic keeps ``0.29 * 100`` at 29 rather than 28.999...
    """
    return max(1, math.floor(Decimal(str(fraction)) * total))


@dataclass(frozen=True, slots=True, kw_only=True)
class HourlyBudget:
    """kube-proxy restarts a run may make: its own budget, within what the hour has left.

    A run that defers nodes starts a follow-up run for them; the follow-ups of one hour share
    one budget, so a fault that keeps coming back cannot restart every node in a loop.

    Attributes:
        nodes: The nodes the fractions are of.
        per_run: Restarts one run may make.
        per_hour: Restarts a run and its follow-ups may make within an hour.
        used: Restarts the runs before this one made this hour.
    """

    nodes: int
    per_run: int
    per_hour: int
    used: int = 0

    @classmethod
    def of(
        cls, nodes: int, *, run_fraction: float, hour_fraction: float, used: int = 0
    ) -> HourlyBudget:
        """The budget for ``nodes`` nodes at these fractions, ``used`` restarts in."""
        return cls(
            nodes=nodes,
            per_run=restart_budget(nodes, run_fraction),
            per_hour=restart_budget(nodes, hour_fraction),
            used=used,
        )

    @property
    def left(self) -> int:
        """Restarts this hour still allows."""
        return max(0, self.per_hour - self.used)

    @property
    def this_run(self) -> int:
        """Restarts this run may make."""
        return min(self.per_run, self.left)

    def left_after(self, restarted: int) -> int:
        """Restarts the hour still allows once this run made ``restarted``."""
        return max(0, self.left - restarted)


def follow_up_hour(
    *,
    hour_started_at: datetime | None,
    run_started_at: datetime,
    now: datetime,
    used_before: int,
    restarted: int,
) -> tuple[datetime, int]:
    """The hour a follow-up run counts its restarts in, and the restarts already made in it.

    Args:
        hour_started_at: When this run's hour began (None: this run began it).
        run_started_at: When this run started.
        now: Now.
        used_before: Restarts the runs before this one made this hour.
        restarted: Restarts this run made.
    """
    started = hour_started_at or run_started_at
    if now - started >= HOUR:
        # That hour is over: only this run's restarts count in the next one.
        return run_started_at, restarted
    return started, used_before + restarted


@dataclass(frozen=True, slots=True, kw_only=True)
class NextWave:
    """The follow-up run's share of the hour: when its hour began, and the restarts made in it."""

    hour_started_at: datetime
    restarted_this_hour: int


def next_wave(
    budget: HourlyBudget,
    *,
    hour_started_at: datetime | None,
    run_started_at: datetime,
    now: datetime,
    restarted: int,
) -> NextWave | None:
    """The follow-up a run that deferred nodes starts, or None when its hour's budget is spent.

    Args:
        budget: The run's budget (``used``: the restarts of the runs before it this hour).
        hour_started_at: When its hour began (None: this run began it).
        run_started_at: When this run started.
        now: Now.
        restarted: The kube-proxy restarts this run made.
    """
    started, used = follow_up_hour(
        hour_started_at=hour_started_at,
        run_started_at=run_started_at,
        now=now,
        used_before=budget.used,
        restarted=restarted,
    )
    if budget.per_hour - used <= 0:
        return None
    return NextWave(hour_started_at=started, restarted_this_hour=used)
