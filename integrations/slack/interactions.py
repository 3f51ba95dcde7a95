"""Reading Slack's interaction callbacks: which button who pressed on which message."""

from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import parse_qs

from pydantic import BaseModel, ConfigDict, ValidationError

from integrations.slack.messages import APPROVE, REJECT, parse_button_value


class InteractionError(ValueError):
    """The callback is not a button press we can act on; the message names the field."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore")


class _User(_Model):
    id: str
    username: str | None = None
    name: str | None = None


class _Action(_Model):
    action_id: str
    value: str | None = None


class _Container(_Model):
    message_ts: str | None = None
    channel_id: str | None = None
    thread_ts: str | None = None


class _Channel(_Model):
    id: str


class _Message(_Model):
    thread_ts: str | None = None


class _BlockActions(_Model):
    type: str
    user: _User
    actions: list[_Action]
    container: _Container | None = None
    channel: _Channel | None = None
    message: _Message | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ButtonPress:
    """An Approve or Reject press on an approval message.

    Attributes:
        approve: Approve (else Reject).
        run_id: The flow run the button answers.
        gate: The run's gate.
        request_id: The request the message was posted for.
        user_id: Who pressed.
        user_name: Their Slack handle.
        channel: Where the message is.
        message_ts: The message.
        thread_ts: The thread the message is in, if any.
    """

    approve: bool
    run_id: str
    gate: str
    request_id: str
    user_id: str
    user_name: str
    channel: str | None
    message_ts: str | None
    thread_ts: str | None = None


def parse_button_press(body: bytes) -> ButtonPress:
    """Read a ``block_actions`` callback (form field ``payload``, a JSON document).

    Raises:
        InteractionError: not form-encoded, not block_actions, or not one of our buttons.
    """
    fields = parse_qs(body.decode("utf-8", errors="replace"))
    if "payload" not in fields:
        raise InteractionError("payload: missing; Slack sends the callback as form field payload")
    try:
        payload = _BlockActions.model_validate(json.loads(fields["payload"][0]))
    except json.JSONDecodeError as error:
        raise InteractionError(f"payload: not JSON ({error})") from error
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise InteractionError(f"payload.{where}: {first['msg']}") from error
    if payload.type != "block_actions":
        raise InteractionError(f"payload.type: {payload.type!r}, only block_actions is handled")
    action = next((a for a in payload.actions if a.action_id in (APPROVE, REJECT)), None)
    if action is None or action.value is None:
        raise InteractionError("payload.actions: no approve/reject button with a value")
    try:
        run_id, gate, request_id = parse_button_value(action.value)
    except ValueError as error:
        raise InteractionError(f"payload.actions[].value: {error}") from error
    container = payload.container or _Container()
    return ButtonPress(
        approve=action.action_id == APPROVE,
        run_id=run_id,
        gate=gate,
        request_id=request_id,
        user_id=payload.user.id,
        user_name=payload.user.username or payload.user.name or payload.user.id,
        channel=container.channel_id or (payload.channel.id if payload.channel else None),
        message_ts=container.message_ts,
        thread_ts=container.thread_ts or (payload.message.thread_ts if payload.message else None),
    )
