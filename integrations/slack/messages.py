"""Slack Block Kit for a run's conversation: the parent message, approval requests, thread lines.

A run has one parent message (what the run is about, where it stands, a link to it); the
approval request (steps, blast radius, diff, two buttons) and every later line go in its thread.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from integrations.slack.format import slack_date

APPROVE = "approve"
REJECT = "reject"
ACTIONS_BLOCK = "approval"
#: Slack refuses a section whose text is longer than 3000 characters.
SECTION_LIMIT = 3000
#: Slack refuses a message of more than 50 blocks.
BLOCK_LIMIT = 50
DIFF_LINES = 40

Block = dict[str, Any]


@dataclass(frozen=True, slots=True)
class MessageItem:
    """One step awaiting approval."""

    description: str
    blast_radius: str
    diff: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class ApprovalMessage:
    """What an approval message says, and which run, gate and request its buttons answer."""

    run_id: str
    gate: str
    request_id: str
    title: str
    items: tuple[MessageItem, ...]
    deadline: datetime
    notes: tuple[str, ...] = ()
    rules: tuple[str, ...] = ()
    context: str | None = None
    run_url: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ParentMessage:
    """A run's parent message: what it is about, where it stands, links to the run and report."""

    title: str
    status: str
    run_url: str | None = None
    report_url: str | None = None


def button_value(run_id: str, gate: str, request_id: str) -> str:
    """What both buttons carry: the run, the gate and the request they answer."""
    return f"{run_id}/{gate}/{request_id}"


def parse_button_value(value: str) -> tuple[str, str, str]:
    """The run, gate and request a button answers.

    Raises:
        ValueError: ``value`` is not ``<run id>/<gate>/<request id>``.
    """
    parts = value.split("/")
    if len(parts) != 3 or not all(parts):
        raise ValueError(f"button value {value!r} is not <run id>/<gate>/<request id>")
    run_id, gate, request_id = parts
    return run_id, gate, request_id


def approval_blocks(
    message: ApprovalMessage, *, note: str | None = None
) -> tuple[str, list[Block]]:
    """The request's fallback text and blocks, with Approve and Reject buttons.

    Args:
        message: The request.
        note: A line above the buttons, e.g. that one of two approvals is in.
    """
    value = button_value(message.run_id, message.gate, message.request_id)
    buttons: Block = {
        "type": "actions",
        "block_id": ACTIONS_BLOCK,
        "elements": [
            _button("Approve", APPROVE, value, style="primary"),
            _button("Reject", REJECT, value, style="danger"),
        ],
    }
    tail = ([_section(note)] if note else []) + [buttons]
    return message.title, [*_body(message, room=BLOCK_LIMIT - len(tail)), *tail]


def decided_blocks(message: ApprovalMessage, decision: str) -> tuple[str, list[Block]]:
    """The request once answered: the same body, the decision instead of the buttons."""
    return f"{message.title}: {decision}", [
        *_body(message, room=BLOCK_LIMIT - 1),
        _section(f"*{decision}*"),
    ]


def parent_blocks(message: ParentMessage) -> tuple[str, list[Block]]:
    """A run's parent message."""
    links = []
    if message.run_url:
        links.append(f"<{message.run_url}|Open the run in Prefect>")
    if message.report_url:
        links.append(f"<{message.report_url}|Report>")
    blocks: list[Block] = [
        {"type": "header", "text": {"type": "plain_text", "text": message.title[:150]}},
        _section(message.status),
    ]
    if links:
        blocks.append({"type": "context", "elements": [_mrkdwn(" · ".join(links))]})
    return f"{message.title}: {message.status}", blocks


def line_blocks(text: str) -> tuple[str, list[Block]]:
    """One line of a run's thread."""
    return text, [_section(text)]


def _body(message: ApprovalMessage, *, room: int) -> list[Block]:
    blocks: list[Block] = [
        {"type": "header", "text": {"type": "plain_text", "text": message.title[:150]}}
    ]
    if message.context:
        blocks.append(_section(message.context))
    footer_blocks = 1 + bool(message.notes) + bool(message.rules)
    space = room - len(blocks) - footer_blocks
    shown = message.items if len(message.items) <= space else message.items[: space - 1]
    for number, item in enumerate(shown, start=1):
        text = f"*{number}. {item.description}*\nBlast radius: {item.blast_radius}"
        if item.diff:
            lines = list(item.diff[:DIFF_LINES])
            if len(item.diff) > DIFF_LINES:
                lines.append(f"... {len(item.diff) - DIFF_LINES} more lines in the Prefect UI")
            text += "\n```" + "\n".join(lines) + "```"
        blocks.append(_section(text))
    if len(shown) < len(message.items):
        blocks.append(_section(f"... and {len(message.items) - len(shown)} more steps in Prefect"))
    if message.notes:
        blocks.append(_section("Not covered:\n" + "\n".join(f"• {n}" for n in message.notes)))
    if message.rules:
        blocks.append(_section("\n".join(message.rules)))
    footer = f"No answer by {slack_date(message.deadline)} rejects."
    if message.run_url:
        footer += f" <{message.run_url}|Open the run in Prefect>"
    blocks.append({"type": "context", "elements": [_mrkdwn(footer)]})
    return blocks


def _mrkdwn(text: str) -> Block:
    return {"type": "mrkdwn", "text": text}


def _section(text: str) -> Block:
    if len(text) > SECTION_LIMIT:
        text = text[: SECTION_LIMIT - 20] + "\n... (truncated)```"
    return {"type": "section", "text": _mrkdwn(text)}


def _button(label: str, action_id: str, value: str, *, style: str) -> Block:
    return {
        "type": "button",
        "action_id": action_id,
        "style": style,
        "text": {"type": "plain_text", "text": label},
        "value": value,
    }
