"""Where a run's time went: each phase's working time, the waits for a human, the verdict.

A wait for approval is an interval of its own (request to answer). It counts as waiting of the
phase whose steps waited, never as working time of any phase: a phase's working time is its
span minus whatever part of a wait fell inside it (the flow ends the scope phase when the plan
is made, so normally none does).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flows.checklist.actions import PHASE_ORDER, Phase
from flows.checklist.record import RunRecord
from flows.run_record import ApprovalRecord

FIVE_MINUTES = 300.0


@dataclass(frozen=True, slots=True, kw_only=True)
class PhaseTime:
    """One phase's time.

    Attributes:
        phase: The phase.
        started_at: When its first step began.
        working_seconds: Time its steps ran; None while the phase is still open.
        waiting_seconds: Time its steps waited for a human's approval.
    """

    phase: Phase
    started_at: datetime
    working_seconds: float | None
    waiting_seconds: float

    @property
    def seconds(self) -> float | None:
        """Working plus waiting: what the phase cost in wall-clock time."""
        if self.working_seconds is None:
            return None
        return self.working_seconds + self.waiting_seconds


@dataclass(frozen=True, slots=True, kw_only=True)
class RunTime:
    """The whole run's time: wall clock, and how much of it was a wait for a human."""

    total_seconds: float | None
    waiting_seconds: float

    @property
    def working_seconds(self) -> float | None:
        """Wall-clock time not spent waiting for a human."""
        if self.total_seconds is None:
            return None
        return max(0.0, self.total_seconds - self.waiting_seconds)


def _overlap(start: datetime, end: datetime, waits: list[ApprovalRecord]) -> float:
    seconds = 0.0
    for wait in waits:
        inside = (min(end, wait.decided_at) - max(start, wait.requested_at)).total_seconds()
        seconds += max(0.0, inside)
    return seconds


def phase_times(record: RunRecord) -> dict[Phase, PhaseTime]:
    """The time of each phase that ran, in checklist order."""
    times: dict[Phase, PhaseTime] = {}
    waits: list[ApprovalRecord] = [] if record.approval is None else [record.approval]
    for phase in PHASE_ORDER:
        spans = [p for p in record.phases if p.phase is phase]
        if not spans:
            continue
        working: float | None = 0.0
        for span in spans:
            if span.finished_at is None or working is None:
                working = None
                continue
            length = (span.finished_at - span.started_at).total_seconds()
            working += max(0.0, length - _overlap(span.started_at, span.finished_at, waits))
        times[phase] = PhaseTime(
            phase=phase,
            started_at=spans[0].started_at,
            working_seconds=working,
            waiting_seconds=record.human_wait_seconds(phase),
        )
    return times


def run_time(record: RunRecord) -> RunTime:
    """The run's wall-clock time and its waits for a human."""
    return RunTime(total_seconds=record.total_seconds, waiting_seconds=record.human_wait_seconds())
