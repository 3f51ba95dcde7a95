"""Where a run's time went: a wait for a human is its own interval, never working time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from flows.approval import Channel, Decision
from flows.checklist import (
    Outcome,
    Phase,
    RunRecord,
    StepsApproval,
    render_report,
)
from flows.checklist.timeline import phase_times, run_time
from tests.flows.checklist.builders import parameters

T0 = datetime(2026, 11, 25, 17, 10, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


@dataclass(frozen=True)
class Case:
    """A run as timestamps: phases (phase, start, end), one wait (phase, asked, answered)."""

    phases: tuple[tuple[Phase, float, float], ...]
    wait: tuple[Phase, float, float] | None
    end: float


def record_of(case: Case) -> RunRecord:
    record = RunRecord(parameters=parameters(), started_at=T0)
    for phase, start, end in case.phases:
        record.start_phase(phase, at=at(start))
        record.end_phase(at=at(end))
    if case.wait is not None:
        phase, asked, answered = case.wait
        record.approval = StepsApproval(
            action_keys=["restart_kube_proxy_pod:node-2"],
            phase=phase,
            requested_at=at(asked),
            decided_at=at(answered),
            decision=Decision.APPROVED,
            by="alice",
            channel=Channel.PREFECT_UI,
        )
    record.finish(Outcome.RECOVERED, at=at(case.end))
    return record


SCOPE, MITIGATE, VERIFY = Phase.SCOPE, Phase.MITIGATE, Phase.VERIFY


@pytest.mark.parametrize(
    ("case", "working", "waiting", "total", "total_working"),
    [
        pytest.param(
            # The plan is ready after 0.2 s, a human approves 44 s later, mitigate runs 60 s.
            Case(
                phases=((SCOPE, 0, 0.2), (MITIGATE, 44.2, 104.2)),
                wait=(MITIGATE, 0.2, 44.2),
                end=104.2,
            ),
            {SCOPE: 0.2, MITIGATE: 60.0},
            {SCOPE: 0.0, MITIGATE: 44.0},
            104.2,
            60.2,
            id="approval-wait-between-scope-and-mitigate",
        ),
        pytest.param(
            # An automatic step ran first; the gated step of the same phase waited inside it.
            Case(
                phases=((SCOPE, 0, 1), (MITIGATE, 1, 95), (VERIFY, 95, 100)),
                wait=(MITIGATE, 5, 35),
                end=100,
            ),
            {SCOPE: 1.0, MITIGATE: 64.0, VERIFY: 5.0},
            {SCOPE: 0.0, MITIGATE: 30.0, VERIFY: 0.0},
            100.0,
            70.0,
            id="approval-wait-inside-the-phase",
        ),
        pytest.param(
            Case(phases=((SCOPE, 0, 2), (MITIGATE, 2, 30), (VERIFY, 30, 40)), wait=None, end=40),
            {SCOPE: 2.0, MITIGATE: 28.0, VERIFY: 10.0},
            {SCOPE: 0.0, MITIGATE: 0.0, VERIFY: 0.0},
            40.0,
            40.0,
            id="drill-without-a-wait",
        ),
    ],
)
def test_each_phase_works_only_while_its_steps_run_and_the_wait_is_counted_apart(
    case: Case,
    working: dict[Phase, float],
    waiting: dict[Phase, float],
    total: float,
    total_working: float,
) -> None:
    record = record_of(case)

    times = phase_times(record)
    whole = run_time(record)

    assert {p: t.working_seconds for p, t in times.items()} == pytest.approx(working)
    assert {p: t.waiting_seconds for p, t in times.items()} == pytest.approx(waiting)
    assert whole.total_seconds == pytest.approx(total)
    assert whole.working_seconds == pytest.approx(total_working)


def test_the_report_shows_the_wait_under_mitigate_and_scope_as_the_planning_time() -> None:
    record = record_of(
        Case(
            phases=((SCOPE, 0, 0.2), (MITIGATE, 44.2, 104.2)), wait=(MITIGATE, 0.2, 44.2), end=104.2
        )
    )

    lines = render_report(record).splitlines()

    for expected in [
        "| scope | 2026-11-25 17:10:00 UTC | 0s | 0s | 0s | 1m 00s | yes |",
        "| mitigate | 2026-11-25 17:10:44 UTC | 1m 44s | 44s | 1m 00s | 2m 00s | yes |",
        "Total 1m 44s, of which 44s waiting for a human and 1m 00s working. Inside five minutes.",
    ]:
        assert expected in lines


@pytest.mark.parametrize(
    ("wait", "end", "verdict"),
    [
        (200, 290, "Inside five minutes."),
        (250, 340, "Over five minutes only because of the wait for a human."),
        (10, 320, "Over five minutes even without the wait for a human."),
    ],
)
def test_the_five_minute_verdict_weighs_working_time_against_wall_time(
    wait: float, end: float, verdict: str
) -> None:
    record = record_of(
        Case(
            phases=((SCOPE, 0, 1), (MITIGATE, 1 + wait, end)), wait=(MITIGATE, 1, 1 + wait), end=end
        )
    )

    assert render_report(record).rstrip().endswith(verdict)
