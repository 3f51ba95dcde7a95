"""Approvals in Slack: each request posted with Approve and Reject buttons, updated once answered.

The buttons' callbacks are the engine's (`engine.slack_actions`): they resume the run with the
same typed answer the Prefect UI's form submits. The message's place is kept with the flow run,
so the answer updates it even when a restarted engine re-runs the flow.
"""

from __future__ import annotations

import json
import logging
from uuid import UUID

from flows.approval.models import ApprovalAnswer, ApprovalRequest, Decision
from flows.approval.notifier import LogNotifier
from flows.approval.store import keep_once, read_kept
from integrations.slack import (
    ApprovalMessage,
    MessageItem,
    MessageRef,
    SlackChannel,
    SlackError,
    approval_blocks,
    decided_blocks,
)

logger = logging.getLogger(__name__)


def message_key(gate: str) -> str:
    """The flow-run-input key holding where the request of `gate` was posted."""
    return f"slack-message-{gate}"


def approval_message(request: ApprovalRequest, *, ui_url: str | None) -> ApprovalMessage:
    """The Slack message for `request`."""
    context = None
    if request.alertname or request.alert_fingerprint:
        context = f"Alert *{request.alertname or '-'}* (`{request.alert_fingerprint or '-'}`)"
    return ApprovalMessage(
        run_id=request.flow_run_id,
        gate=request.gate,
        title=request.title,
        items=tuple(
            MessageItem(item.description, item.blast_radius, tuple(item.diff))
            for item in request.items
        ),
        deadline=request.deadline.isoformat(timespec="seconds"),
        notes=tuple(request.notes),
        context=context,
        run_url=f"{ui_url.rstrip('/')}/runs/flow-run/{request.flow_run_id}" if ui_url else None,
    )


def decision_text(answer: ApprovalAnswer) -> str:
    """The answer in one line, as the message shows it once decided."""
    words = {
        Decision.APPROVED: "Approved",
        Decision.REJECTED: "Rejected",
        Decision.TIMED_OUT: "Not answered in time: rejected",
    }
    text = f"{words.get(answer.decision, answer.decision.value)} by {answer.by}"
    text += f" via {answer.channel.value}"
    return text + (f": {answer.reason}" if answer.reason else "")


class SlackNotifier:
    """Tells the approvals channel about each request and its answer (and logs both)."""

    def __init__(self, channel: SlackChannel, *, ui_url: str | None = None) -> None:
        """Post to `channel`; link each message to the run in the Prefect UI at `ui_url`."""
        self._channel = channel
        self._ui_url = ui_url
        self._log = LogNotifier()

    def approval_requested(self, request: ApprovalRequest) -> None:
        """Post the request with its buttons.

        Raises:
            SlackError: Slack did not take it (after the client's retries); the flow fails
                rather than wait for an answer nobody was asked for.
        """
        self._log.approval_requested(request)
        ref = self._channel.post(*approval_blocks(approval_message(request, ui_url=self._ui_url)))
        kept = json.dumps({"channel": ref.channel, "ts": ref.ts})
        keep_once(UUID(request.flow_run_id), message_key(request.gate), kept)

    def approval_decided(self, request: ApprovalRequest, answer: ApprovalAnswer) -> None:
        """Replace the buttons with the answer; a Slack failure here is logged, not raised.

        The decision already stands (the run goes on as answered); failing the run because
        the message could not be updated would undo an approval for a cosmetic reason.
        """
        self._log.approval_decided(request, answer)
        kept = read_kept(UUID(request.flow_run_id), message_key(request.gate))
        if kept is None:
            return
        where = json.loads(kept)
        message = approval_message(request, ui_url=self._ui_url)
        try:
            self._channel.update(
                MessageRef(channel=where["channel"], ts=where["ts"]),
                *decided_blocks(message, decision_text(answer)),
            )
        except SlackError as error:
            logger.error(
                "could not update the Slack message of flow run %s, gate %s: %s",
                request.flow_run_id,
                request.gate,
                error,
            )
