"""Who hears about approval requests: a protocol every channel implements, and a log channel."""

from __future__ import annotations

import logging
from typing import Protocol

from flows.approval.models import ApprovalAnswer, ApprovalRequest, render_request

logger = logging.getLogger(__name__)


class Notifier(Protocol):
    """A channel the gate tells about requests and answers (`flows.approval.slack` is one).

    Each method is called once per request, however often the flow re-runs; a channel that
    fails should raise, and the flow fails rather than wait for an answer nobody was asked for.
    """

    def approval_requested(self, request: ApprovalRequest) -> None:
        """A flow now waits for an answer to `request`."""
        ...

    def approval_decided(self, request: ApprovalRequest, answer: ApprovalAnswer) -> None:
        """`request` was answered (or timed out, or was withdrawn)."""
        ...


class LogNotifier:
    """Writes requests and answers to the log (the Prefect UI's form is the answering channel)."""

    def __init__(self, log: logging.Logger | None = None) -> None:
        """Log to `log` (default: this module's logger)."""
        self._log = log or logger

    def approval_requested(self, request: ApprovalRequest) -> None:
        """Log the request as the form shows it."""
        self._log.info(
            "approval requested (flow run %s, gate %s):\n%s",
            request.flow_run_id,
            request.gate,
            render_request(request),
        )

    def approval_decided(self, request: ApprovalRequest, answer: ApprovalAnswer) -> None:
        """Log the answer."""
        self._log.info(
            "approval %s for flow run %s, gate %s: by %s via %s (%s)",
            answer.decision.value,
            request.flow_run_id,
            request.gate,
            answer.by,
            answer.channel.value,
            answer.reason or "no reason given",
        )
