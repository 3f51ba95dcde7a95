"""Matching alerts to runbooks: which runbooks an alert starts, with which parameters (pure)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from runbooks.approval import ApprovalPolicy
from runbooks.fields import Scalar
from runbooks.model import ParameterSource, Runbook
from runbooks.registry import Catalog
from runbooks.templates import render_template, template_fields


class UnmatchedReason(StrEnum):
    """Why an alert (or a manual start) did not produce a run; few values, fit for metric labels."""

    NO_RUNBOOK = "no_runbook"
    STATUS_NOT_HANDLED = "status_not_handled"
    MISSING_LABEL = "missing_label"
    MISSING_PARAMETER = "missing_parameter"


@dataclass(frozen=True, slots=True)
class Match:
    """A runbook to start, fully resolved.

    Attributes:
        runbook: The runbook's name.
        deployment: Prefect deployment, ``flow-name/deployment-name``.
        parameters: Flow parameters resolved from constants and alert labels.
        concurrency_key: Runs with equal keys must never overlap.
        cooldown_key: ``<runbook>:<target>``; None when the runbook has no cooldown.
        cooldown_seconds: How long after a run the same cooldown key does not start again.
        approval: The runbook's approval policy, for the flow to consult per action.
        joins_incident: The shared object whose open incident the alert joins instead of
            starting a run (None: it always starts its own).
    """

    runbook: str
    deployment: str
    parameters: Mapping[str, Scalar]
    concurrency_key: str
    cooldown_key: str | None
    cooldown_seconds: int
    approval: ApprovalPolicy
    joins_incident: str | None = None


@dataclass(frozen=True, slots=True)
class Rejection:
    """A runbook whose matcher held for the alert (or that was started by hand) but cannot run."""

    runbook: str
    reason: UnmatchedReason
    detail: str


@dataclass(frozen=True, slots=True)
class MatchResult:
    """Everything matching decided for one alert.

    Attributes:
        matches: One per runbook to start (an alert may start several).
        rejections: Runbooks whose matcher held but that cannot start, with the reason.
    """

    matches: tuple[Match, ...]
    rejections: tuple[Rejection, ...]
    alertname: str = ""

    @property
    def matched(self) -> bool:
        """Whether the alert starts at least one runbook."""
        return bool(self.matches)

    @property
    def unmatched_reasons(self) -> tuple[UnmatchedReason, ...]:
        """Why nothing starts: empty when matched, ``(NO_RUNBOOK,)`` when no matcher held."""
        if self.matches:
            return ()
        if self.rejections:
            return tuple(rejection.reason for rejection in self.rejections)
        return (UnmatchedReason.NO_RUNBOOK,)

    def describe(self) -> str:
        """One line for logs: what starts, or why nothing does."""
        started = [f"{match.runbook} -> {match.deployment}" for match in self.matches]
        rejected = [f"{r.runbook}: {r.reason} ({r.detail})" for r in self.rejections]
        if not started and not rejected:
            return f"no runbook matches alertname={self.alertname!r}"
        return "; ".join(started + rejected)


class _MissingValueError(Exception):
    """Internal: a parameter has no value (a label absent, or not supplied by the operator)."""

    def __init__(self, reason: UnmatchedReason, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


def match_alert(catalog: Catalog, labels: Mapping[str, str], status: str) -> MatchResult:
    """Decide which runbooks an alert starts.

    Every alert-driven runbook whose matcher holds yields a `Match` (all of them, not the first):
    an alert may start several runbooks. Manual-only runbooks never match. A runbook whose matcher
    holds but whose statuses exclude `status`, or whose required label is absent, yields a
    `Rejection` instead.

    Args:
        catalog: The loaded catalog.
        labels: The alert's labels; an empty value counts as absent, as in Prometheus.
        status: The alert's status, ``firing`` or ``resolved``.
    """
    matches: list[Match] = []
    rejections: list[Rejection] = []
    for runbook in catalog.alert_driven:
        if runbook.match is None or not runbook.match.holds(labels):
            continue
        if status not in runbook.statuses:
            handled = ", ".join(runbook.statuses)
            rejections.append(
                Rejection(
                    runbook.name,
                    UnmatchedReason.STATUS_NOT_HANDLED,
                    f"status {status!r} does not start it (statuses: {handled})",
                )
            )
            continue
        try:
            parameters = {
                name: value
                for name, source in runbook.parameters.items()
                if (value := _from_labels(name, source, labels)) is not None
            }
            matches.append(_resolve(runbook, parameters))
        except _MissingValueError as missing:
            rejections.append(Rejection(runbook.name, missing.reason, missing.detail))
    return MatchResult(tuple(matches), tuple(rejections), labels.get("alertname", ""))


def resolve_manual_run(runbook: Runbook, supplied: Mapping[str, Scalar]) -> Match | Rejection:
    """Resolve a run started by hand (`runbooks run ...`) from operator-supplied parameters.

    Constants of the runbook are defaults the operator may override; label parameters take the
    operator's value, else their default. Templates must then find every field they use.
    """
    parameters: dict[str, Scalar] = {}
    for name, source in runbook.parameters.items():
        value = source.value if not source.from_label else source.default
        if value is not None:
            parameters[name] = value
    parameters.update(supplied)
    try:
        return _resolve(runbook, parameters)
    except _MissingValueError as missing:
        return Rejection(runbook.name, missing.reason, missing.detail)


def _from_labels(name: str, source: ParameterSource, labels: Mapping[str, str]) -> Scalar | None:
    if not source.from_label:
        return source.value
    for label in source.from_label:
        if labels.get(label):
            return labels[label]
    if source.default is not None:
        return source.default
    if not source.required:
        return None
    tried = " or ".join(repr(label) for label in source.from_label)
    raise _MissingValueError(
        UnmatchedReason.MISSING_LABEL, f"label {tried} is missing (parameter {name!r})"
    )


def _resolve(runbook: Runbook, parameters: Mapping[str, Scalar]) -> Match:
    concurrency_key = _render(runbook.concurrency_key, parameters, what="concurrency_key")
    cooldown_key: str | None = None
    cooldown_seconds = 0
    if runbook.cooldown is not None:
        target = _render(runbook.cooldown.target, parameters, what="cooldown.target")
        cooldown_key = f"{runbook.name}:{target}"
        cooldown_seconds = runbook.cooldown.seconds
    return Match(
        runbook=runbook.name,
        deployment=runbook.deployment,
        parameters=dict(parameters),
        concurrency_key=concurrency_key,
        cooldown_key=cooldown_key,
        cooldown_seconds=cooldown_seconds,
        approval=runbook.approval,
        joins_incident=runbook.joins_incident.value if runbook.joins_incident else None,
    )


def _render(template: str, parameters: Mapping[str, Scalar], *, what: str) -> str:
    absent = [field for field in template_fields(template) if field not in parameters]
    if absent:
        raise _MissingValueError(
            UnmatchedReason.MISSING_PARAMETER,
            f"{what} {template!r} needs parameter(s) {', '.join(absent)}",
        )
    return render_template(template, parameters)
