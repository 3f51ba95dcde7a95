"""The approval gate every flow uses: describe the steps, wait durably for a typed answer.

Waiting is Prefect's ``suspend_flow_run`` with an input form, so nothing runs while a human
thinks and an engine restart loses nothing: the answer (from the UI's resume form, the API, or
Slack's buttons) makes Prefect schedule the run again, the engine's executor re-runs it from the
top, finished tasks come back from their persisted results, and this gate, reached again,
returns the answer instead of suspending (Prefect refuses a pause key that already fired).
Nobody answering is the engine's job (`engine.approvals`): past the deadline it submits a
``timed_out`` rejection. Prefect's own pause timeout, a day later, is only a backstop.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from prefect.flow_runs import suspend_flow_run
from prefect.runtime import flow_run

from flows.approval.models import (
    ApprovalAnswer,
    ApprovalInput,
    ApprovalItem,
    ApprovalRequest,
    answer_from_input,
    render_request,
)
from flows.approval.notifier import Notifier
from flows.approval.store import keep_request, mark_decided

PREFECT_TIMEOUT_GRACE = timedelta(days=1)
"""How long after our deadline Prefect itself fails a run still suspended (engine gone)."""


@dataclass(frozen=True, slots=True)
class Approval:
    """A request as first made, and its answer."""

    request: ApprovalRequest
    answer: ApprovalAnswer


@dataclass(frozen=True, slots=True, kw_only=True)
class AlertEpisode:
    """The alert a request is about, so the engine can withdraw it once the alert resolves."""

    fingerprint: str
    starts_at: datetime | None
    alertname: str | None


class ApprovalGate:
    """Asks for approval and waits; call `ask` from a flow (not a task) of a deployment."""

    def __init__(self, notifier: Notifier, *, now: Callable[[], datetime]) -> None:
        """A gate telling `notifier`; `now` stamps requests and answers."""
        self._notifier = notifier
        self._now = now

    def request(
        self,
        *,
        gate: str,
        title: str,
        items: list[ApprovalItem],
        timeout_seconds: float,
        notes: list[str] | None = None,
        alert: AlertEpisode | None = None,
    ) -> ApprovalRequest:
        """Build the request for the current flow run (not yet asked)."""
        now = self._now()
        return ApprovalRequest(
            gate=gate,
            flow_run_id=str(flow_run.get_id()),
            title=title,
            items=items,
            notes=notes or [],
            requested_at=now,
            deadline=now + timedelta(seconds=timeout_seconds),
            alert_fingerprint=alert.fingerprint if alert else None,
            alert_starts_at=alert.starts_at if alert else None,
            alertname=alert.alertname if alert else None,
        )

    def ask(self, request: ApprovalRequest) -> Approval:
        """Suspend the run until `request` is answered; on the re-run, return the answer.

        The first call raises Prefect's ``Pause`` (the run leaves the process, Suspended); do
        not catch it. A re-run reaching the same gate gets the stored answer at once.
        """
        kept, new = keep_request(request)
        if new:
            self._notifier.approval_requested(kept)
        form = ApprovalInput.with_initial_data(description=render_request(kept))
        backstop = kept.deadline + PREFECT_TIMEOUT_GRACE - self._now()
        submitted = suspend_flow_run(
            wait_for_input=form,
            key=kept.gate,
            timeout=max(int(backstop.total_seconds()), 1),
        )
        answer = answer_from_input(submitted, decided_at=self._now())
        if mark_decided(kept):
            self._notifier.approval_decided(kept, answer)
        return Approval(request=kept, answer=answer)
