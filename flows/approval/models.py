"""The approval gate's vocabulary: what is asked, the typed answer, and who gave it (pure)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from runbooks.approval import FourEyes

ENGINE_ANSWERER = "runbook-engine"
"""Who answers when nobody did in time, or when the alert resolved meanwhile."""

STARTED_BY_TAG = "started-by:"
"""A run's tag naming who started it by hand (a Slack user ID or a name), for four-eyes."""

_GATE_KEY = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


def clock_time(moment: datetime) -> str:
    """``2025-01-10 09:00:41 UTC``: to the second, in UTC, as reports and logs show times."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


class Decision(StrEnum):
    """How an approval request ended; no answer in time counts as a rejection."""

    APPROVED = "approved"
    REJECTED = "rejected"
    TIMED_OUT = "timed_out"
    WITHDRAWN = "withdrawn"
    """The engine took the request back: the alert it was about resolved while it waited."""


class Channel(StrEnum):
    """Where an answer came from: a human's channel, the engine, or the runbook's policy."""

    PREFECT_UI = "prefect_ui"
    SLACK = "slack"
    ENGINE = "engine"
    POLICY = "policy"
    DRILL = "drill"


class ApprovalItem(BaseModel):
    """One step awaiting approval: what it does, what it touches, the exact change."""

    model_config = ConfigDict(frozen=True)

    key: str
    description: str
    blast_radius: str
    diff: list[str] = Field(default_factory=list)


class ApprovalRules(BaseModel):
    """Who may answer a request, as its runbook says; kept with the request.

    Attributes:
        approvers: Slack user IDs who may answer.
        approver_groups: Slack user groups whose members may answer.
        four_eyes: The second pair of eyes the request's actions need.
        started_by: Who started the run by hand (its ``started-by:`` tag, or Prefect's
            creator), for `FourEyes.NOT_THE_STARTER`; None for a run an alert started.
    """

    model_config = ConfigDict(frozen=True)

    approvers: tuple[str, ...] = ()
    approver_groups: tuple[str, ...] = ()
    four_eyes: frozenset[FourEyes] = frozenset()
    started_by: str | None = None

    @property
    def names_approvers(self) -> bool:
        """Whether the runbook names its approvers (else the engine's list applies)."""
        return bool(self.approvers or self.approver_groups)

    @property
    def two_approvers(self) -> bool:
        """Whether two different people must approve."""
        return FourEyes.TWO_APPROVERS in self.four_eyes

    @property
    def not_the_starter(self) -> bool:
        """Whether the run's starter is barred from approving it."""
        return FourEyes.NOT_THE_STARTER in self.four_eyes


class Coverage(BaseModel):
    """The other alerts one request answers for: those that joined its run's incident.

    Attributes:
        shared: The shared object the incident is about (``kube-proxy``).
        cause: What the owner found.
        alerts: How many other alerts joined.
        targets: Their targets (``namespace/service``, a node, the cluster), the first few.
        more_targets: Targets joined beyond those listed.
    """

    model_config = ConfigDict(frozen=True)

    shared: str
    cause: str
    alerts: int = 0
    targets: tuple[str, ...] = ()
    more_targets: int = 0

    def lines(self) -> list[str]:
        """The coverage in words, as the request's message and form say it."""
        head = f"One request for the whole {self.shared} incident: {self.cause}."
        if not self.alerts:
            return [head, "No other alert has joined it yet; those that do are listed here."]
        more = f" and {self.more_targets} more" if self.more_targets else ""
        total = len(self.targets) + self.more_targets
        return [
            head,
            f"It also answers for {self.alerts} other alert(s) on {total} target(s): "
            f"{', '.join(self.targets)}{more}. Each is verified once the change is done; one "
            "still failing then gets its own run.",
        ]


class ApprovalRequest(BaseModel):
    """What a flow asks a human to approve, kept with the flow run while it waits.

    Attributes:
        gate: The gate's key, unique within the run (also the suspension's pause key).
        request_id: This request's own id: Slack's buttons carry it, and only an answer
            naming it can answer the request (a stale button cannot answer a later one).
        flow_run_id: The waiting flow run.
        title: One line: what is to be approved, on what.
        items: The steps to approve, in order.
        notes: What the steps do not cover (shown with the request).
        requested_at: When the request was first made.
        deadline: When no answer counts as a rejection (timed out).
        rules: Who may answer.
        alert_fingerprint: The alert that started the run, if any.
        alert_starts_at: When that alert started firing (its episode).
        alertname: The alert's name.
        coverage: The other alerts it answers for, when its run owns an incident.
    """

    model_config = ConfigDict(frozen=True)

    gate: str = Field(pattern=_GATE_KEY.pattern)
    request_id: str = Field(min_length=1)
    flow_run_id: str
    title: str
    items: list[ApprovalItem]
    notes: list[str] = Field(default_factory=list)
    requested_at: datetime
    deadline: datetime
    rules: ApprovalRules = Field(default_factory=ApprovalRules)
    alert_fingerprint: str | None = None
    alert_starts_at: datetime | None = None
    alertname: str | None = None
    coverage: Coverage | None = None


class ApprovalAnswer(BaseModel):
    """The answer a flow acts on.

    Attributes:
        decision: What was decided.
        by: Who answered, as the report shows it.
        reason: Why (the answerer's words, or the engine's).
        channel: Where the answer came from.
        decided_at: When the answer was given (not when the flow read it).
        answerers: The Slack users who answered (two for a four-eyes approval), for mentions.
        late_by: Who answered after the deadline, when that answer was refused.
    """

    model_config = ConfigDict(frozen=True)

    decision: Decision
    by: str
    reason: str = ""
    channel: Channel
    decided_at: datetime
    answerers: tuple[str, ...] = ()
    late_by: str | None = None

    @property
    def approved(self) -> bool:
        """Whether the steps may run."""
        return self.decision is Decision.APPROVED


def answer_line(answer: ApprovalAnswer) -> str:
    """The answer in one line of a log: ``approved by alice via slack at <time>: <why>``."""
    line = f"{answer.decision.value} by {answer.by} via {answer.channel.value} at "
    line += clock_time(answer.decided_at)
    return f"{line}: {answer.reason}" if answer.reason else line


@dataclass(frozen=True, slots=True)
class Approval:
    """A request as first made, and its answer."""

    request: ApprovalRequest
    answer: ApprovalAnswer


@dataclass(frozen=True, slots=True, kw_only=True)
class RunSubject:
    """The run a conversation is about: its id, what it is in a few words, its report.

    Attributes:
        flow_run_id: The flow run.
        title: e.g. ``ServiceDown on shop/web: five-minute checklist``.
        report_key: The key of the run's report artifact.
    """

    flow_run_id: str
    title: str
    report_key: str


class StepStatus(StrEnum):
    """How one step ended. A skipped step did nothing and verified nothing: told apart from a
    done one wherever a person reads it (a thread line, a report row)."""

    DONE = "done"
    SKIPPED = "skipped"
    FAILED = "failed"


@dataclass(frozen=True, slots=True, kw_only=True)
class StepNote:
    """One step a run carried out (or skipped, or failed), as it is told while the run goes on.

    Attributes:
        key: The step's key, unique within the run.
        text: What was done, and how it ended.
        status: How it ended.
        at: When it ended.
    """

    key: str
    text: str
    status: StepStatus
    at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class RunEnding:
    """How a run ended: the final state's name, the outcome in words, whether it went well."""

    state: str
    detail: str
    ok: bool
    at: datetime


def is_gate_key(key: str) -> bool:
    """Whether `key` can name a gate (lower-case letters, digits and dashes; 63 at most)."""
    return bool(_GATE_KEY.match(key))


def render_request(request: ApprovalRequest) -> str:
    """The request as markdown: shown above the resume form, and by notifiers."""
    lines = [f"### {request.title}", ""]
    if request.alertname or request.alert_fingerprint:
        lines += [f"Alert: {request.alertname or '-'} (`{request.alert_fingerprint or '-'}`)", ""]
    if request.coverage is not None:
        lines += [*request.coverage.lines(), ""]
    lines += [f"Answer by {clock_time(request.deadline)}; no answer rejects.", ""]
    for number, item in enumerate(request.items, start=1):
        lines.append(f"{number}. {item.description}")
        lines.append(f"   - Blast radius: {item.blast_radius}")
        if item.diff:
            lines += ["   ```diff", *(f"   {line}" for line in item.diff), "   ```"]
    if request.notes:
        lines += ["", "Not covered by this approval:"]
        lines += [f"- {note}" for note in request.notes]
    lines += ["", *_rules_lines(request.rules)]
    return "\n".join(lines).rstrip() + "\n"


def _rules_lines(rules: ApprovalRules) -> list[str]:
    lines = []
    if rules.two_approvers:
        lines.append("Two different people must approve (four-eyes).")
    if rules.not_the_starter and rules.started_by:
        lines.append(f"{rules.started_by} started this run and may not approve it (four-eyes).")
    return lines
