"""How a checklist run ends, decided from what it found and what its verification saw (pure).

A run that finds the Service down for a reason outside its reach (the workload scaled to zero,
a rollout still starting its pods, pods no node can take) has nothing to do about it: it says
so under an outcome of its own and does not end Failed, whereas a fault it cannot change itself
(say, a Service deleted) still ends ``not_recovered``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from flows.checklist.findings import Finding, FindingCode, Severity
from flows.checklist.record import Outcome

Code = FindingCode

OUTSIDE_THE_RUN: Mapping[FindingCode, Outcome] = {
    Code.WORKLOAD_SCALED_TO_ZERO: Outcome.SCALED_TO_ZERO,
    Code.WORKLOAD_ROLLING_OUT: Outcome.ROLLOUT_IN_PROGRESS,
    Code.PODS_UNSCHEDULABLE: Outcome.PODS_UNSCHEDULABLE,
}
"""Causes the checklist finds but leaves to their owners, and the outcome each gives a run."""

_NO_ENDPOINTS = frozenset({Code.NO_READY_ENDPOINTS})
_NOT_READY = frozenset({Code.NO_PODS_READY, Code.SOME_PODS_NOT_READY})


def explained_symptoms(causes: Sequence[Finding]) -> frozenset[FindingCode]:
    """The findings `causes` account for: no ready endpoint always; pods not Ready only while
    a rollout starts them (a rollout finding is made only when no pod fails otherwise)."""
    rolling = any(f.code is Code.WORKLOAD_ROLLING_OUT for f in causes)
    return _NO_ENDPOINTS | (_NOT_READY if rolling else frozenset())


def outcome_without_steps(findings: Sequence[Finding]) -> tuple[Outcome, str]:
    """The outcome of a run whose plan has no step, and its detail."""
    attention = [f for f in findings if f.severity >= Severity.WARNING]
    if not attention:
        return Outcome.NOTHING_TO_DO, "nothing of warning or critical severity found"
    causes = [f for f in attention if f.code in OUTSIDE_THE_RUN]
    explained = explained_symptoms(causes)
    others = [f for f in attention if f.code not in OUTSIDE_THE_RUN and f.code not in explained]
    if causes and not others:
        first = causes[0]
        return OUTSIDE_THE_RUN[first.code], f"{first.summary}; nothing for this run to change"
    return Outcome.NOT_RECOVERED, "nothing this run can change itself; see the notes"


def recovery_signals(checked: Sequence[str], unavailable: Sequence[str]) -> str:
    """What verification rested on: the checks made, and the ones this cluster could not make."""
    text = "checked: " + "; ".join(checked) if checked else "no check needed"
    if unavailable:
        text += "; unavailable: " + "; ".join(unavailable)
    return text


def outcome_after_verification(
    *,
    changed: bool,
    deferred: Sequence[str],
    checked: Sequence[str],
    unavailable: Sequence[str],
) -> tuple[Outcome, str]:
    """The outcome of a run whose every verification passed (or could not be made).

    Args:
        changed: The plan held changes to the cluster (not only checks).
        deferred: Nodes whose kube-proxy restart the run left for later (over its budget).
        checked: What each passing check saw.
        unavailable: Why each check that could not be made was not.
    """
    signals = recovery_signals(checked, unavailable)
    if not changed:
        # Only checks ran and they passed: this run changed nothing, so nothing "recovered".
        return Outcome.NOTHING_TO_DO, f"nothing of warning or critical severity found; {signals}"
    if deferred:
        return Outcome.PARTIALLY_MITIGATED, (
            f"verified what this run did ({signals}); deferred: kube-proxy still needs a "
            f"restart on {len(deferred)} node(s) over this run's budget: {', '.join(deferred)}"
        )
    return Outcome.RECOVERED, f"verified: {signals}"
