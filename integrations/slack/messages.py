"""Approval messages as Slack Block Kit: what is asked, its blast radius and diff, two buttons."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

APPROVE = "approve"
REJECT = "reject"
ACTIONS_BLOCK = "approval"
#: Slack refuses a section whose text is longer than 3000 characters.
SECTION_LIMIT = 3000
DIFF_LINES = 40

Block = dict[str, Any]


@dataclass(frozen=True, slots=True)
class MessageItem:
    """One step awaiting approval."""

    description: str
    blast_radius: str
    diff: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ApprovalMessage:
    """What an approval message says, and which run and gate its buttons answer."""

    run_id: str
    gate: str
    title: str
    items: tuple[MessageItem, ...]
    deadline: str
    notes: tuple[str, ...] = ()
    context: str | None = None
    run_url: str | None = None


def button_value(run_id: str, gate: str) -> str:
    """What both buttons carry: the run and the gate they answer."""
    return f"{run_id}/{gate}"


def parse_button_value(value: str) -> tuple[str, str]:
    """The run and gate a button answers.

    Raises:
        ValueError: ``value`` is not ``<run id>/<gate>``.
    """
    run_id, separator, gate = value.partition("/")
    if not separator or not run_id or not gate:
        raise ValueError(f"button value {value!r} is not <run id>/<gate>")
    return run_id, gate


def approval_blocks(message: ApprovalMessage) -> tuple[str, list[Block]]:
    """The message's fallback text and blocks, with Approve and Reject buttons."""
    value = button_value(message.run_id, message.gate)
    buttons: Block = {
        "type": "actions",
        "block_id": ACTIONS_BLOCK,
        "elements": [
            _button("Approve", APPROVE, value, style="primary"),
            _button("Reject", REJECT, value, style="danger"),
        ],
    }
    return message.title, [*_body(message), buttons]


def decided_blocks(message: ApprovalMessage, decision: str) -> tuple[str, list[Block]]:
    """The message once answered: the same body, the decision instead of the buttons."""
    return f"{message.title}: {decision}", [*_body(message), _section(f"*{decision}*")]


def _body(message: ApprovalMessage) -> list[Block]:
    blocks: list[Block] = [
        {"type": "header", "text": {"type": "plain_text", "text": message.title[:150]}}
    ]
    if message.context:
        blocks.append(_section(message.context))
    for number, item in enumerate(message.items, start=1):
        text = f"*{number}. {item.description}*\nBlast radius: {item.blast_radius}"
        if item.diff:
            shown = list(item.diff[:DIFF_LINES])
            if len(item.diff) > DIFF_LINES:
                shown.append(f"... {len(item.diff) - DIFF_LINES} more lines in the Prefect UI")
            text += "\n```" + "\n".join(shown) + "```"
        blocks.append(_section(text))
    if message.notes:
        blocks.append(_section("Not covered:\n" + "\n".join(f"• {n}" for n in message.notes)))
    footer = f"No answer by {message.deadline} rejects."
    if message.run_url:
        footer += f" <{message.run_url}|Open the run in Prefect>"
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": footer}]})
    return blocks


def _section(text: str) -> Block:
    if len(text) > SECTION_LIMIT:
        text = text[: SECTION_LIMIT - 20] + "\n... (truncated)```"
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _button(label: str, action_id: str, value: str, *, style: str) -> Block:
    return {
        "type": "button",
        "action_id": action_id,
        "style": style,
        "text": {"type": "plain_text", "text": label},
        "value": value,
    }
