"""Pressing a button of a posted approval message, as Slack calls the engine back: signed."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx

from tests.slack_fake import FakeSlack, SlackCall

SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
#: A real block_actions callback as Slack sent it (our copy of shared/samples).
CAPTURED: dict[str, Any] = json.loads(
    (
        Path(__file__).parent / "integrations/slack/fixtures/slack_block_actions_payload.json"
    ).read_text()
)


def sign_body(body: bytes, *, secret: str = SIGNING_SECRET) -> dict[str, str]:
    """The headers Slack sends with ``body``: now, and ``v0=`` HMAC-SHA256 of
    ``v0:<timestamp>:<body>`` with the signing secret."""
    timestamp = str(int(time.time()))
    digest = hmac.new(secret.encode(), f"v0:{timestamp}:".encode() + body, hashlib.sha256)
    return {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": f"v0={digest.hexdigest()}",
    }


def is_request(call: SlackCall) -> bool:
    """Whether a posted message is an approval request (it ends in its buttons)."""
    blocks = call.body.get("blocks") or []
    return bool(blocks) and blocks[-1].get("type") == "actions"


def requests_in(calls: list[SlackCall], text: str = "") -> list[SlackCall]:
    """The approval requests among ``calls`` whose text holds ``text``."""
    return [call for call in calls if is_request(call) and text in call.body["text"]]


def wait_for_requests(slack: FakeSlack, count: int = 1, within: float = 10.0) -> list[SlackCall]:
    """Wait until ``count`` approval requests were posted; all posted by then."""
    deadline = time.monotonic() + within
    while len(found := requests_in(slack.calls("chat.postMessage"))) < count:
        if time.monotonic() > deadline:
            seen = [call.body.get("text") for call in slack.calls("chat.postMessage")]
            raise AssertionError(
                f"expected {count} approval request(s) in {within}s; posted: {seen}"
            )
        time.sleep(0.02)
    return found


def button_of(posted: SlackCall) -> tuple[str, str, str]:
    """The run, gate and request a posted request's buttons answer."""
    [value] = {element["value"] for element in posted.body["blocks"][-1]["elements"]}
    run_id, gate, request_id = value.split("/")
    return run_id, gate, request_id


def ts_of(slack: FakeSlack, posted: SlackCall, channel: str = "C0123ABC") -> str:
    """The ts Slack gave a posted request (its message id), found by its buttons."""
    value = posted.body["blocks"][-1]["elements"][0]["value"]
    [ts] = [m["ts"] for m in slack.messages(channel) if value in json.dumps(m["blocks"])]
    return str(ts)


def press_payload(
    posted: SlackCall, button: str, *, user: str, ts: str = "1795626735.484281"
) -> dict[str, Any]:
    """Slack's block_actions payload for ``button`` of ``posted`` pressed by ``user``: the
    message whole (Slack sends its blocks back), in its thread if it was posted in one."""
    [value] = {element["value"] for element in posted.body["blocks"][-1]["elements"]}
    payload: dict[str, Any] = json.loads(json.dumps(CAPTURED))
    payload["user"].update(id=user, username=user.lower(), name=user.lower())
    if user == "U0123ABCD":  # the captured payload's own user
        payload["user"].update(username="oncall", name="oncall")
    payload["actions"][0].update(action_id=button, value=value)
    payload["message"].update(text=posted.body.get("text", ""), blocks=posted.body["blocks"], ts=ts)
    payload["container"]["message_ts"] = ts
    thread_ts = posted.body.get("thread_ts")
    if thread_ts:
        payload["container"]["thread_ts"] = payload["message"]["thread_ts"] = thread_ts
    if posted.body.get("channel"):
        payload["container"]["channel_id"] = payload["channel"]["id"] = posted.body["channel"]
    return payload


def callback_body(payload: dict[str, Any]) -> bytes:
    """The form-encoded body Slack posts: the payload as JSON in the field ``payload``."""
    return urlencode({"payload": json.dumps(payload)}).encode()


def signed_press(
    posted: SlackCall,
    button: str,
    *,
    user: str,
    secret: str = SIGNING_SECRET,
    ts: str = "1795626735.484281",
) -> tuple[bytes, dict[str, str]]:
    """The body and headers of Slack's callback for ``button`` pressed by ``user``, signed."""
    body = callback_body(press_payload(posted, button, user=user, ts=ts))
    return body, sign_body(body, secret=secret)


async def press(
    url: str,
    posted: SlackCall,
    button: str,
    *,
    user: str = "U0123ABCD",
    secret: str = SIGNING_SECRET,
    ts: str = "1795626735.484281",
) -> httpx.Response:
    """POST the signed callback for ``button`` to the engine's interactions ``url``.

    ``ts`` is the pressed message's (Slack's id for it), for the endpoint to update it.
    """
    body, headers = signed_press(posted, button, user=user, secret=secret, ts=ts)
    async with httpx.AsyncClient(timeout=10) as client:
        return await client.post(url, content=body, headers=headers)
