"""Who hears about a run's approvals and progress: a protocol every channel implements, and a log.

A channel hears, per run: each approval request and its answer, each step the run carries out
once it may change things, and how the run ended. Slack (`flows.approval.slack`) tells them as
one conversation per run: a parent message, and everything else in its thread.
"""

from __future__ import annotations

import logging
from typing import Protocol

from flows.approval.models import (
    ApprovalAnswer,
    ApprovalRequest,
    RunEnding,
    RunSubject,
    StepNote,
    answer_line,
    render_request,
)

logger = logging.getLogger(__name__)


class Notifier(Protocol):
    """A channel the gate and the changing flows tell (`flows.approval.slack` is one).

    ``approval_requested`` is called once per request, however often the flow re-runs; a
    channel that fails to ask should raise, and the flow fails rather than wait for an answer
    nobody was asked for. The other calls must neither block the run for long nor fail it:
    the decision or the change already stands.
    """

    def approval_requested(self, run: RunSubject, request: ApprovalRequest) -> None:
        """The run now waits for an answer to `request`."""
        ...

    def approval_updated(self, run: RunSubject, request: ApprovalRequest) -> None:
        """`request`, still waiting, now says more (more alerts joined its incident)."""
        ...

    def approval_decided(
        self, run: RunSubject, request: ApprovalRequest, answer: ApprovalAnswer
    ) -> None:
        """`request` was answered (or timed out, or was withdrawn)."""
        ...

    def step_done(self, run: RunSubject, step: StepNote) -> None:
        """The run carried out a step (an action, or a verification)."""
        ...

    def run_finished(self, run: RunSubject, ending: RunEnding) -> None:
        """The run ended."""
        ...


class LogNotifier:
    """Writes requests, answers and progress to the log (the Prefect UI's form answers)."""

    def __init__(self, log: logging.Logger | None = None) -> None:
        """Log to `log` (default: this module's logger)."""
        self._log = log or logger

    def approval_requested(self, run: RunSubject, request: ApprovalRequest) -> None:
        """Log the request as the form shows it."""
        self._log.info(
            "approval requested (flow run %s, gate %s):\n%s",
            run.flow_run_id,
            request.gate,
            render_request(request),
        )

    def approval_updated(self, run: RunSubject, request: ApprovalRequest) -> None:
        """Log what the request now covers."""
        coverage = request.coverage
        self._log.info(
            "approval request of flow run %s, gate %s, now covers %d other alert(s)",
            run.flow_run_id,
            request.gate,
            coverage.alerts if coverage else 0,
        )

    def approval_decided(
        self, run: RunSubject, request: ApprovalRequest, answer: ApprovalAnswer
    ) -> None:
        """Log the answer."""
        self._log.info(
            "flow run %s, gate %s answered: %s", run.flow_run_id, request.gate, answer_line(answer)
        )

    def step_done(self, run: RunSubject, step: StepNote) -> None:
        """Log the step."""
        self._log.info("flow run %s: %s", run.flow_run_id, step.text)

    def run_finished(self, run: RunSubject, ending: RunEnding) -> None:
        """Log the ending."""
        self._log.info("flow run %s ended %s: %s", run.flow_run_id, ending.state, ending.detail)
