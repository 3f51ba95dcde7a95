"""The approval gate's vocabulary: what is asked, the typed answer, and how the form reads."""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum

from prefect.input import RunInput
from pydantic import BaseModel, ConfigDict, Field

ENGINE_ANSWERER = "runbook-engine"
"""Who answers when nobody did in time, or when the alert resolved meanwhile."""

_GATE_KEY = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


class Decision(StrEnum):
    """How an approval request ended; no answer in time counts as a rejection."""

    APPROVED = "approved"
    REJECTED = "rejected"
    TIMED_OUT = "timed_out"


class Channel(StrEnum):
    """Where an answer came from."""

    PREFECT_UI = "prefect_ui"
    SLACK = "slack"
    ENGINE = "engine"


class ApprovalItem(BaseModel):
    """One step awaiting approval: what it does, what it touches, the exact change."""

    model_config = ConfigDict(frozen=True)

    key: str
    description: str
    blast_radius: str
    diff: list[str] = Field(default_factory=list)


class ApprovalRequest(BaseModel):
    """What a flow asks a human to approve, kept with the flow run while it waits.

    Attributes:
        gate: The gate's key, unique within the run (also the suspension's pause key).
        flow_run_id: The waiting flow run.
        title: One line: what is to be approved, on what.
        items: The steps to approve, in order.
        notes: What the steps do not cover (shown with the request).
        requested_at: When the request was first made.
        deadline: When no answer counts as a rejection (timed out).
        alert_fingerprint: The alert that started the run, if any.
        alert_starts_at: When that alert started firing (its episode).
        alertname: The alert's name.
    """

    model_config = ConfigDict(frozen=True)

    gate: str = Field(pattern=_GATE_KEY.pattern)
    flow_run_id: str
    title: str
    items: list[ApprovalItem]
    notes: list[str] = Field(default_factory=list)
    requested_at: datetime
    deadline: datetime
    alert_fingerprint: str | None = None
    alert_starts_at: datetime | None = None
    alertname: str | None = None


class ApprovalInput(RunInput):
    """The answer form (Prefect's resume form in the UI; the same fields through the API)."""

    approve: bool = Field(
        default=False, description="Tick to approve every step listed above; unticked rejects"
    )
    by: str = Field(min_length=1, description="Who answers (name or handle, for the record)")
    reason: str = Field(default="", description="Why (kept in the incident report)")
    channel: Channel = Field(
        default=Channel.PREFECT_UI, description="Where the answer came from (set by the channel)"
    )
    timed_out: bool = Field(
        default=False, description="Set by the engine only, when nobody answered in time"
    )


class ApprovalAnswer(BaseModel):
    """The answer a flow acts on."""

    model_config = ConfigDict(frozen=True)

    decision: Decision
    by: str
    reason: str = ""
    channel: Channel
    decided_at: datetime

    @property
    def approved(self) -> bool:
        """Whether the steps may run."""
        return self.decision is Decision.APPROVED


def answer_from_input(answer: ApprovalInput, *, decided_at: datetime) -> ApprovalAnswer:
    """The typed answer for a submitted form; ``timed_out`` wins over ``approve``."""
    if answer.timed_out:
        decision = Decision.TIMED_OUT
    else:
        decision = Decision.APPROVED if answer.approve else Decision.REJECTED
    return ApprovalAnswer(
        decision=decision,
        by=answer.by,
        reason=answer.reason,
        channel=answer.channel,
        decided_at=decided_at,
    )


def timed_out_input(request: ApprovalRequest) -> dict[str, object]:
    """The form the engine submits when `request` passed its deadline unanswered."""
    return ApprovalInput(
        approve=False,
        by=ENGINE_ANSWERER,
        reason=f"No answer by {request.deadline.isoformat()}: rejected by default",
        channel=Channel.ENGINE,
        timed_out=True,
    ).model_dump(mode="json")


def withdrawn_input(reason: str) -> dict[str, object]:
    """The form the engine submits to withdraw a request (e.g. its alert resolved)."""
    return ApprovalInput(
        approve=False, by=ENGINE_ANSWERER, reason=reason, channel=Channel.ENGINE
    ).model_dump(mode="json")


def is_gate_key(key: str) -> bool:
    """Whether `key` can name a gate (lower-case letters, digits and dashes; 63 at most)."""
    return bool(_GATE_KEY.match(key))


def render_request(request: ApprovalRequest) -> str:
    """The request as markdown: shown above the resume form, and by notifiers."""
    lines = [f"### {request.title}", ""]
    if request.alertname or request.alert_fingerprint:
        lines += [f"Alert: {request.alertname or '-'} (`{request.alert_fingerprint or '-'}`)", ""]
    lines += [f"Answer by {request.deadline.isoformat()}; no answer rejects.", ""]
    for number, item in enumerate(request.items, start=1):
        lines.append(f"{number}. {item.description}")
        lines.append(f"   - Blast radius: {item.blast_radius}")
        if item.diff:
            lines += ["   ```diff", *(f"   {line}" for line in item.diff), "   ```"]
    if request.notes:
        lines += ["", "Not covered by this approval:"]
        lines += [f"- {note}" for note in request.notes]
    return "\n".join(lines)
