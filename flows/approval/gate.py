"""The approval gate every flow uses: describe the steps, wait durably for a typed answer.

Waiting is Prefect's ``suspend_flow_run`` with an input form, so nothing runs while a human
thinks and an engine restart loses nothing: the answer (from the UI's resume form, the API, or
Slack's buttons) makes Prefect schedule the run again, the engine's executor re-runs it from the
top, finished tasks come back from their persisted results, and this gate, reached again,
returns the answer instead of suspending (Prefect refuses a pause key that already fired).
Nobody answering is the engine's job (`engine.approvals.sweeper`): past the deadline it submits a
``timed_out`` rejection. Prefect's own pause timeout, a day later, is only a backstop.

The answer is judged as of when it was given (`flows.approval.form.judge_answer`): an answer
after the deadline counts as none, whatever the channel.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from prefect.context import FlowRunContext
from prefect.flow_runs import suspend_flow_run
from prefect.logging import get_run_logger
from prefect.runtime import flow_run

from flows.approval.form import FormAnswer, form_for, judge_answer
from flows.approval.models import (
    ENGINE_ANSWERER,
    STARTED_BY_TAG,
    Approval,
    ApprovalAnswer,
    ApprovalItem,
    ApprovalRequest,
    ApprovalRules,
    Channel,
    Coverage,
    Decision,
    RunSubject,
    answer_line,
)
from flows.approval.notifier import Notifier
from flows.approval.store import keep_request, mark_decided, read_answer, read_vote

PREFECT_TIMEOUT_GRACE = timedelta(days=1)
"""How long after our deadline Prefect itself fails a run still suspended (engine gone)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class AlertEpisode:
    """The alert a request is about, so the engine can withdraw it once the alert resolves."""

    fingerprint: str
    starts_at: datetime | None
    alertname: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class ApprovalTerms:
    """What the runbook says about a request: how long it waits, who may answer."""

    timeout_seconds: float
    rules: ApprovalRules = field(default_factory=ApprovalRules)


def started_by(tags: list[str], creator: str | None) -> str | None:
    """Who started a run by hand: its ``started-by:`` tag, else Prefect's record of its creator."""
    tagged = next(
        (t.removeprefix(STARTED_BY_TAG) for t in tags if t.startswith(STARTED_BY_TAG)), ""
    )
    return tagged.strip() or creator


def _current_starter() -> str | None:
    context = FlowRunContext.get()
    run = context.flow_run if context else None
    creator = run.created_by.display_value if run and run.created_by else None
    return started_by(list(flow_run.tags), creator)


class ApprovalGate:
    """Asks for approval and waits; call `ask` from a flow (not a task) of a deployment."""

    def __init__(
        self,
        notifier: Notifier,
        *,
        run: RunSubject,
        terms: ApprovalTerms,
        now: Callable[[], datetime],
    ) -> None:
        """A gate telling `notifier` about `run`'s requests made on `terms`.

        Args:
            notifier: Told about each request and its answer.
            run: The run asking.
            terms: The runbook's timeout and rules for the request's actions.
            now: Stamps requests.
        """
        self._notifier = notifier
        self._run = run
        self._terms = terms
        self._now = now

    def request(
        self,
        *,
        gate: str,
        title: str,
        items: list[ApprovalItem],
        timeout_seconds: float | None = None,
        notes: list[str] | None = None,
        alert: AlertEpisode | None = None,
        coverage: Coverage | None = None,
    ) -> ApprovalRequest:
        """Build the request for the current flow run (not yet asked).

        Args:
            gate: The gate's key.
            title: What is to be approved, on what.
            items: The steps.
            timeout_seconds: How long to wait; None: the runbook's.
            notes: What the steps do not cover.
            alert: The alert the run is about.
            coverage: The other alerts it answers for (its run owns an incident).
        """
        now = self._now()
        timeout = self._terms.timeout_seconds if timeout_seconds is None else timeout_seconds
        return ApprovalRequest(
            gate=gate,
            request_id=uuid.uuid4().hex[:16],
            flow_run_id=str(flow_run.get_id()),
            title=title,
            items=items,
            notes=notes or [],
            requested_at=now,
            deadline=now + timedelta(seconds=timeout),
            rules=self._terms.rules.model_copy(update={"started_by": _current_starter()}),
            alert_fingerprint=alert.fingerprint if alert else None,
            alert_starts_at=alert.starts_at if alert else None,
            alertname=alert.alertname if alert else None,
            coverage=coverage,
        )

    def ask(self, request: ApprovalRequest) -> Approval:
        """Suspend the run until `request` is answered; on the re-run, return the answer.

        The first call raises Prefect's ``Pause`` (the run leaves the process, Suspended); do
        not catch it. A re-run reaching the same gate gets the stored answer at once.
        """
        kept, new = keep_request(request)
        if new:
            self._notifier.approval_requested(self._run, kept)
        backstop = kept.deadline + PREFECT_TIMEOUT_GRACE - self._now()
        suspend_flow_run(
            wait_for_input=form_for(kept),
            key=kept.gate,
            timeout=max(int(backstop.total_seconds()), 1),
        )
        answer = self._judged(kept)
        # Prefect has just logged "Suspending flow run ..." once more (it cannot tell a replay
        # from a first pause until its server answers): say it is not waiting again, and why.
        get_run_logger().info("Resumed, not waiting again: %s", answer_line(answer))
        if mark_decided(kept):
            self._notifier.approval_decided(self._run, kept, answer)
        return Approval(request=kept, answer=answer)

    def _judged(self, request: ApprovalRequest) -> ApprovalAnswer:
        stored = read_answer(request)
        if stored is None:
            # Resumed without an answer (its state set by hand): nobody approved anything.
            return ApprovalAnswer(
                decision=Decision.REJECTED,
                by=ENGINE_ANSWERER,
                reason="the run was resumed without an answer; nothing was changed",
                channel=Channel.ENGINE,
                decided_at=self._now(),
            )
        vote = None
        if request.rules.two_approvers and isinstance(stored.submitted, FormAnswer):
            vote = read_vote(request)
        return judge_answer(
            request, stored.submitted, answered_at=stored.answered_at, first_vote=vote
        )
