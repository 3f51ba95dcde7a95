"""What a drill saw, judged (pure): its timeline, the loop's parts, the five-minute verdict.

The parts add up to the whole loop: detection (fault -> firing), engine (firing -> last action
done) and cluster (last action -> resolved). The verdict puts the shipped ``for:`` back in place
of the drill's scaled one.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import takewhile

FIVE_MINUTES = 300.0
#: Final states of a run that count as its failure (Prefect state types).
FAILED_TYPES = frozenset({"FAILED", "CRASHED", "CANCELLED"})


@dataclass(frozen=True)
class RuleTiming:
    """An alert rule's ``for:`` as shipped and as the drill's scaled copy has it, in seconds."""

    alertname: str
    shipped_for: float
    drill_for: float


@dataclass(frozen=True)
class AlertFacts:
    """One alert as Prometheus showed it (``/api/v1/alerts``), by its Alertmanager fingerprint."""

    fingerprint: str
    alertname: str
    subject: str
    pending_at: datetime | None = None
    firing_at: datetime | None = None
    resolved_at: datetime | None = None


@dataclass(frozen=True)
class Step:
    """A moment in a run: a state it entered, an action it finished, an approval."""

    at: datetime
    what: str


@dataclass(frozen=True)
class RunFacts:
    """One flow run the drill followed.

    Attributes:
        label: How the timeline names it (runbook or flow, and the run's name).
        created_at: When Prefect created it (for an alert's run: when the engine took the alert).
        steps: States entered, approval asked and answered, actions done.
        actions_done: When each action (a task that changes the cluster) finished.
        final_type: Its final state type (``COMPLETED``, ``FAILED``...), None while running.
        outcome: Its final state's name and message (``NotRecovered: ...``).
        started_by_drill: The drill started it (no alert routes to its runbook).
    """

    label: str
    created_at: datetime
    steps: tuple[Step, ...] = ()
    actions_done: tuple[datetime, ...] = ()
    final_type: str | None = None
    outcome: str = ""
    started_by_drill: bool = False

    @property
    def failed(self) -> bool:
        """Whether it ended in a failed state."""
        return self.final_type in FAILED_TYPES


@dataclass(frozen=True)
class DrillFacts:
    """Everything a drill observed.

    Attributes:
        scenario: The scenario's name.
        description: What the scenario breaks and what should mend it.
        fault: What was injected (the fault and its details).
        fault_at: When it was injected.
        alerts: Every alert that became active after the fault.
        webhooks: When the engine received each alert firing (first time), by fingerprint.
        runs: The runs of those alerts, and any the drill started.
        no_run_reasons: Why the engine started no run (its log: cooldown, unmatched...).
        waited_seconds: How long the drill waited for the loop to close.
        follow_up_expected: The scenario ends with a run the drill starts (a checklist that
            points at another flow): the alert's own run may fail without failing the drill.
        notes: Said before the timeline (why the drill started a run itself).
    """

    scenario: str
    description: str
    fault: str
    fault_at: datetime
    alerts: tuple[AlertFacts, ...] = ()
    webhooks: dict[str, datetime] = field(default_factory=dict)
    runs: tuple[RunFacts, ...] = ()
    no_run_reasons: tuple[str, ...] = ()
    waited_seconds: float = 0.0
    follow_up_expected: bool = False
    notes: tuple[str, ...] = ()

    @property
    def fired(self) -> tuple[AlertFacts, ...]:
        """The alerts that reached firing."""
        return tuple(a for a in self.alerts if a.firing_at is not None)


@dataclass(frozen=True)
class Durations:
    """The loop's parts in seconds; None where the drill never got that far."""

    detection: float | None
    delivery: float | None
    engine: float | None
    engine_own: float | None
    cluster: float | None
    total: float | None


@dataclass(frozen=True)
class Verdict:
    """The whole loop against five minutes, with the shipped ``for:`` instead of the scaled one."""

    shipped_total: float | None
    substituted: RuleTiming | None

    @property
    def inside_five_minutes(self) -> bool:
        """Whether the loop, as shipped, closes within five minutes."""
        return self.shipped_total is not None and self.shipped_total <= FIVE_MINUTES


@dataclass(frozen=True)
class Judgement:
    """Whether the drill passed, and the one line that says why."""

    passed: bool
    reason: str


def _seconds(start: datetime | None, end: datetime | None) -> float | None:
    return None if start is None or end is None else (end - start).total_seconds()


def _first(moments: Sequence[datetime | None]) -> datetime | None:
    known = [m for m in moments if m is not None]
    return min(known) if known else None


def last_action_done(facts: DrillFacts) -> datetime | None:
    """When the last action of any followed run finished."""
    done = [at for run in facts.runs for at in run.actions_done]
    return max(done) if done else None


def resolved_at(facts: DrillFacts) -> datetime | None:
    """When the last fired alert resolved; None while any still fires (or none fired)."""
    fired = facts.fired
    if not fired or any(a.resolved_at is None for a in fired):
        return None
    return max(a.resolved_at for a in fired if a.resolved_at is not None)


def durations(facts: DrillFacts) -> Durations:
    """Detection + engine + cluster = total; delivery and the engine's own part inside engine."""
    firing = _first([a.firing_at for a in facts.fired])
    webhook = _first([facts.webhooks.get(a.fingerprint) for a in facts.fired])
    acted = last_action_done(facts)
    resolved = resolved_at(facts)
    return Durations(
        detection=_seconds(facts.fault_at, firing),
        delivery=_seconds(firing, webhook),
        engine=_seconds(firing, acted),
        engine_own=_seconds(webhook, acted),
        cluster=_seconds(acted, resolved),
        total=_seconds(facts.fault_at, resolved),
    )


def verdict(facts: DrillFacts, timings: dict[str, RuleTiming]) -> Verdict:
    """The loop's length had the first alert to fire waited its shipped ``for:``.

    Only that alert's ``for:`` lies on the loop's path: the engine acts on it, and the loop
    ends when the fault is gone, whatever other alerts were still pending.
    """
    fired = sorted(facts.fired, key=lambda a: a.firing_at or facts.fault_at)
    total = durations(facts).total
    if not fired or total is None:
        return Verdict(shipped_total=None, substituted=None)
    timing = timings.get(fired[0].alertname)
    if timing is None:
        return Verdict(shipped_total=total, substituted=None)
    return Verdict(total - timing.drill_for + timing.shipped_for, timing)


def judge(facts: DrillFacts) -> Judgement:
    """Passed when an alert fired, a run acted, every fired alert resolved and no run failed.

    A scenario that ends in a run the drill starts (the checklist pointed at the rollback)
    excuses the alert's own run failing, as long as the run the drill started did not.
    """
    if not facts.fired:
        pending = [a.alertname for a in facts.alerts]
        seen = f" ({', '.join(pending)} only pending)" if pending else ""
        return Judgement(False, f"no alert fired within {facts.waited_seconds:.0f}s{seen}")
    names = ", ".join(sorted({f"{a.alertname} {a.subject}".strip() for a in facts.fired}))
    if not facts.runs:
        why = "; ".join(facts.no_run_reasons) or "no webhook of the alert reached it"
        return Judgement(False, f"the engine started no run for {names}: {why}")
    unresolved = [a for a in facts.fired if a.resolved_at is None]
    if unresolved:
        last = facts.runs[-1]
        ended = f"last run {last.label}: {last.outcome or 'still running'}"
        alert = unresolved[0]
        return Judgement(
            False,
            f"{alert.alertname} {alert.subject} still firing {facts.waited_seconds:.0f}s "
            f"after the fault ({ended})",
        )
    drill_started = [r for r in facts.runs if r.started_by_drill]
    excused = facts.follow_up_expected and any(not r.failed for r in drill_started)
    for run in facts.runs:
        if run.failed and not (excused and not run.started_by_drill):
            return Judgement(False, f"run {run.label} ended {run.outcome}")
    if last_action_done(facts) is None:
        return Judgement(False, f"{names} resolved, but no run took any action")
    return Judgement(True, f"{names} fired, the engine acted, and the alert resolved")


def timeline(facts: DrillFacts) -> list[Step]:
    """Every moment the drill knows of, in order (ties keep the order they were found in)."""
    steps = [Step(facts.fault_at, f"fault injected: {facts.fault}")]
    for alert in facts.alerts:
        name = f"{alert.alertname} {alert.subject}".strip()
        for at, what in (
            (alert.pending_at, "alert pending"),
            (alert.firing_at, "alert firing"),
            (facts.webhooks.get(alert.fingerprint), "webhook received"),
            (alert.resolved_at, "alert resolved"),
        ):
            if at is not None:
                steps.append(Step(at, f"{what}: {name}"))
    for run in facts.runs:
        origin = "started by the drill" if run.started_by_drill else "created"
        steps.append(Step(run.created_at, f"run {origin}: {run.label}"))
        steps.extend(Step(s.at, f"{run.label}: {s.what}") for s in run.steps)
    return sorted(steps, key=lambda s: s.at)


def _fmt(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds:.1f}s"


def render(
    facts: DrillFacts, timings: dict[str, RuleTiming], *, scale: float
) -> tuple[list[str], Judgement]:
    """The drill's printout (timeline, durations, verdict, result) and its judgement."""
    lines = [f"drill {facts.scenario}: {facts.description}"]
    fired = {a.alertname for a in facts.fired}
    scaled = [t for name, t in sorted(timings.items()) if name in fired]
    if scale != 1 and scaled:
        shown = ", ".join(
            f"{t.alertname} for: {t.drill_for:g}s (shipped {t.shipped_for:g}s)" for t in scaled
        )
        lines.append(f"  detection time is scaled: rules' for: x {scale:g}: {shown}")
    lines += [f"  note: {note}" for note in facts.notes]
    for step in timeline(facts):
        lines.append(f"  {(step.at - facts.fault_at).total_seconds():+8.1f}s  {step.what}")
    spans = durations(facts)
    outcome = verdict(facts, timings)
    shipped = _fmt(outcome.shipped_total)
    lines += [
        f"  detection {_fmt(spans.detection):>8}  fault -> firing (scrape + for:)",
        f"  engine    {_fmt(spans.engine):>8}  firing -> last action done "
        f"(Alertmanager -> webhook {_fmt(spans.delivery)}; "
        f"webhook -> last action {_fmt(spans.engine_own)})",
        f"  cluster   {_fmt(spans.cluster):>8}  last action -> alert resolved",
        f"  total     {_fmt(spans.total):>8}  with the shipped for: {shipped}: "
        + ("inside five minutes" if outcome.inside_five_minutes else "NOT inside five minutes"),
    ]
    judgement = judge(facts)
    lines.append(f"  result: {'PASSED' if judgement.passed else 'FAILED'}: {judgement.reason}")
    return lines, judgement


def approval_steps(report: str) -> list[Step]:
    """When a run's report says its approval was asked and answered, by whom, on which channel.

    The checklist's section is ``## Approvals`` (Decision, By, Channel, Requested, Decided),
    the rollback's ``## Approval`` (decision, by, channel, asked, answered): both are read.
    """
    lines = report.splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith("## Approval")), None)
    if start is None:
        return []
    section = list(takewhile(lambda line: not line.startswith("## "), lines[start + 1 :]))
    table = [_cells(line) for line in section if line.startswith("|")]
    if len(table) < 3:
        return []
    row = {name.lower(): value for name, value in zip(table[0], table[2], strict=False)}
    asked = _moment(row.get("requested") or row.get("asked"))
    answered = _moment(row.get("decided") or row.get("answered"))
    by = f"{row.get('decision')} by {row.get('by')} ({row.get('channel')})"
    return [
        *([Step(asked, "approval requested")] if asked else []),
        *([Step(answered, f"approval answered: {by}")] if answered else []),
    ]


def _moment(text: str | None) -> datetime | None:
    """A report's time: ISO 8601, or ``2025-01-10 09:00:41 UTC`` (to the second)."""
    try:
        return datetime.fromisoformat(text.replace(" UTC", "+00:00")) if text else None
    except ValueError:
        return None  # a format the drill does not know: the step is left out, not the drill


def _cells(row: str) -> list[str]:
    # A cell may hold an escaped pipe (\|), which is no column border.
    return [cell.strip() for cell in re.split(r"(?<!\\)\|", row.strip().strip("|"))]
