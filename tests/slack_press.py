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

from tests.slack_fake import SlackCall

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


def press_payload(posted: SlackCall, button: str, *, user: str) -> dict[str, Any]:
    """Slack's block_actions payload for ``button`` of ``posted`` pressed by ``user``."""
    [value] = {element["value"] for element in posted.body["blocks"][-1]["elements"]}
    payload: dict[str, Any] = json.loads(json.dumps(CAPTURED))
    payload["user"]["id"] = user
    payload["actions"][0].update(action_id=button, value=value)
    return payload


def callback_body(payload: dict[str, Any]) -> bytes:
    """The form-encoded body Slack posts: the payload as JSON in the field ``payload``."""
    return urlencode({"payload": json.dumps(payload)}).encode()


def signed_press(
    posted: SlackCall, button: str, *, user: str, secret: str = SIGNING_SECRET
) -> tuple[bytes, dict[str, str]]:
    """The body and headers of Slack's callback for ``button`` pressed by ``user``, signed."""
    body = callback_body(press_payload(posted, button, user=user))
    return body, sign_body(body, secret=secret)


async def press(
    url: str,
    posted: SlackCall,
    button: str,
    *,
    user: str = "U0123ABCD",
    secret: str = SIGNING_SECRET,
) -> httpx.Response:
    """POST the signed callback for ``button`` to the engine's interactions ``url``."""
    body, headers = signed_press(posted, button, user=user, secret=secret)
    async with httpx.AsyncClient(timeout=10) as client:
        return await client.post(url, content=body, headers=headers)
