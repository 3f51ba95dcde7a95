"""Reading Slack's block_actions callbacks into button presses, and refusing what is not one."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from integrations.slack import InteractionError, parse_button_press
from integrations.slack.messages import button_value, parse_button_value

RUN_ID = "6060c15e-1b40-497a-bf42-55c496e1917e"
REQUEST_ID = "9c1d4e2f7a0b3c5d"
#: Captured from Slack (a real block_actions callback); its buttons carried ``run-123``.
CAPTURED: dict[str, Any] = json.loads(
    (Path(__file__).with_name("fixtures") / "slack_block_actions_payload.json").read_text()
)


def callback(payload: dict[str, Any] | str) -> bytes:
    """The body Slack posts: the payload as JSON in the form field ``payload``."""
    text = payload if isinstance(payload, str) else json.dumps(payload)
    return urlencode({"payload": text}).encode()


def pressed(action_id: str = "approve", value: str | None = None) -> dict[str, Any]:
    """The captured callback, with our button value and the given button pressed."""
    payload = copy.deepcopy(CAPTURED)
    payload["actions"][0]["action_id"] = action_id
    payload["actions"][0]["value"] = value or button_value(RUN_ID, "checklist-approval", REQUEST_ID)
    return payload


@pytest.mark.parametrize(("action_id", "approve"), [("approve", True), ("reject", False)])
def test_a_press_names_the_run_the_gate_the_request_the_answer_and_who_pressed(
    action_id: str, approve: bool
) -> None:
    press = parse_button_press(callback(pressed(action_id)))

    assert press.approve is approve
    assert (press.run_id, press.gate, press.request_id) == (
        RUN_ID,
        "checklist-approval",
        REQUEST_ID,
    )
    assert (press.user_id, press.user_name) == ("U0123ABCD", "oncall")
    assert (press.channel, press.message_ts) == ("C0123ABC", "1795626735.484281")


def test_the_captured_press_is_refused_because_its_button_is_not_ours() -> None:
    with pytest.raises(InteractionError, match=r"'run-123' is not <run id>/<gate>/<request id>"):
        parse_button_press(callback(CAPTURED))


def without(field: str) -> dict[str, Any]:
    """Our press without ``field``."""
    payload = pressed()
    del payload[field]
    return payload


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "payload: missing"),
        (b"text=hello", "payload: missing"),
        (callback("{not json"), "payload: not JSON"),
        (callback(without("user")), "payload.user: Field required"),
        (callback(without("actions")), "payload.actions: Field required"),
        (callback({**pressed(), "type": "view_submission"}), "only block_actions is handled"),
        (callback(pressed(action_id="something_else")), "no approve/reject button"),
        (callback(pressed(value="no-gate")), "is not <run id>/<gate>/<request id>"),
    ],
    ids=[
        "empty",
        "other-form",
        "not-json",
        "no-user",
        "no-actions",
        "other-type",
        "other-button",
        "bad-value",
    ],
)
def test_what_is_not_one_of_our_presses_is_refused_naming_the_field(
    body: bytes, message: str
) -> None:
    with pytest.raises(InteractionError, match=message):
        parse_button_press(body)


@pytest.mark.parametrize(
    "value",
    ["/gate/request", "run//request", "run/gate/", "run/gate", "run/gate/request/more", ""],
    ids=["no-run", "no-gate", "no-request", "an-older-engines-button", "more", "empty"],
)
def test_a_button_value_needs_its_run_gate_and_request(value: str) -> None:
    with pytest.raises(ValueError, match="is not <run id>/<gate>/<request id>"):
        parse_button_value(value)


def test_a_button_value_reads_back_as_written() -> None:
    assert parse_button_value(button_value(RUN_ID, "rollback-kube-proxy", REQUEST_ID)) == (
        RUN_ID,
        "rollback-kube-proxy",
        REQUEST_ID,
    )


def test_a_press_in_a_thread_names_the_thread() -> None:
    payload = pressed()
    payload["container"]["thread_ts"] = "1795626700.000100"

    assert parse_button_press(callback(payload)).thread_ts == "1795626700.000100"
