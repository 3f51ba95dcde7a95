"""The fault matrix's rows: what one fault did to one flow, the table they make, the verdict."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from prefect.client.schemas.objects import FlowRun

from flows.change_run import FinalState
from flows.checklist.conduct import STATES as CHECKLIST_STATES
from flows.conntrack.conduct import STATES as CONNTRACK_STATES
from flows.rollback.conduct import STATES as ROLLBACK_STATES


def _outcomes_by_name(*tables: Mapping[Any, FinalState]) -> dict[str, frozenset[str]]:
    named: dict[str, set[str]] = {}
    for table in tables:
        for outcome, (_, name) in table.items():
            named.setdefault(name, set()).add(str(outcome))
    return {name: frozenset(values) for name, values in named.items()}


#: Each named final state of the three changing flows, with the outcomes its message may start
#: with (``final_state`` writes ``<outcome>: <detail>``).
NAMED_STATES = _outcomes_by_name(CHECKLIST_STATES, ROLLBACK_STATES, CONNTRACK_STATES)


def is_named(run: FlowRun) -> bool:
    """Whether a final run ended in one of its flow's named states (one that says what was done).

    Prefect's own ``Failed`` or ``Crashed`` (an exception, a dead engine) are not: the name must
    be a flow's and the message must start with that name's outcome.
    """
    state = run.state
    if state is None or not state.is_final() or state.name not in NAMED_STATES:
        return False
    message = state.message or ""
    return any(message.startswith(outcome) for outcome in NAMED_STATES[state.name])


@dataclass(frozen=True)
class Row:
    """What one fault did to one flow.

    Attributes:
        case: The fault, numbered as in the issue (e.g. ``2 Prefect restart, suspended``).
        flow: The flow it hit.
        alerts_sent: Distinct alerts sent to the receiver (0 for runs started by hand).
        runs_created: Runs of the changing flows that exist at the end.
        alerts_lost: Alerts without a run and without a join or cooldown answer.
        runs_lost: Runs acknowledged (by the receiver, or created by the bench) that are gone.
        actions_twice: Changes made again on the same object (a pod deleted twice, the same
            patch or ``conntrack -D`` applied twice), plus extra runs for one alert.
        runs_not_final: Runs still Scheduled, Pending, Running or Paused at the end.
        unnamed: Final runs in a state no flow names (Crashed, Prefect's own Failed).
        final_states: Final state names and how many runs ended in each, sorted by name.
        expected: The named state every run should end in.
        changes: The changes made in the cluster, by action, sorted.
        seconds: From the row's first run or alert to the last run's end.
        notes: What else the row saw (retries, Slack calls, delete attempts).
    """

    case: str
    flow: str
    alerts_sent: int
    runs_created: int
    alerts_lost: int
    runs_lost: int
    actions_twice: int
    runs_not_final: int
    unnamed: int
    final_states: tuple[tuple[str, int], ...]
    expected: str
    changes: tuple[tuple[str, int], ...]
    seconds: float
    notes: str = ""

    @property
    def met(self) -> bool:
        """0 lost, 0 twice, 0 stuck, and every run in a named state."""
        return not (
            self.alerts_lost
            or self.runs_lost
            or self.actions_twice
            or self.runs_not_final
            or self.unnamed
        )

    @property
    def as_expected(self) -> bool:
        """Every run ended in the expected named state."""
        return bool(self.final_states) and {name for name, _ in self.final_states} == {
            self.expected
        }


def final_state_counts(runs: Iterable[FlowRun]) -> tuple[tuple[str, int], ...]:
    """How many final runs ended in each state name."""
    names = Counter(
        str(run.state.name) for run in runs if run.state is not None and run.state.is_final()
    )
    return tuple(sorted(names.items()))


HEADER = (
    "case",
    "flow",
    "alerts",
    "runs",
    "alerts lost",
    "runs lost",
    "twice",
    "not final",
    "final states",
    "seconds",
)


def _cells(row: Row) -> tuple[str, ...]:
    states = ", ".join(f"{name} x{count}" for name, count in row.final_states) or "-"
    if row.unnamed:
        states += f" ({row.unnamed} unnamed)"
    if not row.as_expected:
        states += f" [expected {row.expected}]"
    return (
        row.case,
        row.flow,
        str(row.alerts_sent),
        str(row.runs_created),
        str(row.alerts_lost),
        str(row.runs_lost),
        str(row.actions_twice),
        str(row.runs_not_final),
        states,
        f"{row.seconds:.1f}",
    )


def render_table(rows: Sequence[Row]) -> str:
    """The rows as a fixed-width table, each followed by its notes."""
    cells = [_cells(row) for row in rows]
    widths = [max(len(line[i]) for line in [HEADER, *cells]) for i in range(len(HEADER))]
    numeric = {2, 3, 4, 5, 6, 7, 9}

    def line(values: Sequence[str]) -> str:
        return "  ".join(
            value.rjust(width) if index in numeric else value.ljust(width)
            for index, (value, width) in enumerate(zip(values, widths, strict=True))
        ).rstrip()

    lines = [line(HEADER), line(["-" * width for width in widths])]
    for row, values in zip(rows, cells, strict=True):
        lines.append(line(values))
        if row.notes:
            lines.append(f"    {row.notes}")
    return "\n".join(lines)


def verdict(rows: Sequence[Row]) -> str:
    """One line against the target: 0 lost, 0 twice, 0 stuck, every run named."""
    missed = [row for row in rows if not row.met]
    totals = (
        f"{sum(r.alerts_lost for r in rows)} alerts lost, {sum(r.runs_lost for r in rows)} runs "
        f"lost, {sum(r.actions_twice for r in rows)} twice, "
        f"{sum(r.runs_not_final for r in rows)} not final, {sum(r.unnamed for r in rows)} unnamed"
    )
    unexpected = sum(not row.as_expected for row in rows)
    tail = f"; {unexpected} row(s) not in the expected state" if unexpected else ""
    if not missed:
        return f"verdict: target MET in {len(rows)} rows ({totals}){tail}"
    cases = ", ".join(sorted({f"{row.case} / {row.flow}" for row in missed}))
    return f"verdict: target MISSED in {len(missed)} of {len(rows)} rows: {cases} ({totals}){tail}"
