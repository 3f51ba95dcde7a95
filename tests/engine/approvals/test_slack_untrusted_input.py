"""Whatever arrives at /slack/interactions: never a 5xx, and no run answered without a signature."""

from __future__ import annotations

import asyncio
import json
from urllib.parse import urlencode

import httpx
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from prefect.client.orchestration import PrefectClient
from slack_sdk import WebClient
from starlette.applications import Starlette
from starlette.routing import Route

from engine.approvals.slack import SlackActions
from integrations.slack import SlackChannel
from tests.slack_press import CAPTURED, SIGNING_SECRET, sign_body

HEADER_TEXT = st.text(st.characters(max_codepoint=255, exclude_categories=["Cc"]), max_size=40)
PAYLOADS = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=15,
)
#: Random bytes, form bodies with any payload, and the real callback with its fields replaced.
BODIES = (
    st.binary(max_size=300)
    | PAYLOADS.map(lambda payload: urlencode({"payload": json.dumps(payload)}).encode())
    | st.dictionaries(st.sampled_from(sorted(CAPTURED)), PAYLOADS, max_size=3).map(
        lambda changes: urlencode({"payload": json.dumps({**CAPTURED, **changes})}).encode()
    )
)


class PrefectNeverReached:
    """Counts every attempt to open a Prefect client; each one fails as an outage would."""

    def __init__(self) -> None:
        self.opened = 0

    def __call__(self) -> PrefectClient:
        self.opened += 1
        raise httpx.ConnectError("Prefect is not part of this test")


PREFECT = PrefectNeverReached()
#: Refusals told to the presser go nowhere: Slack is unreachable here, which is only logged.
CHANNEL = SlackChannel(WebClient(token="xoxb-test", base_url="http://127.0.0.1:9/api/"), "C1")
ACTIONS = SlackActions(signing_secret=SIGNING_SECRET, channel=CHANNEL, prefect=PREFECT)


async def post(body: bytes, headers: dict[bytes, bytes]) -> httpx.Response:
    app = Starlette(routes=[Route("/slack/interactions", ACTIONS.handle, methods=["POST"])])
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://engine.test"
    ) as client:
        return await client.post("/slack/interactions", content=body, headers=headers)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=BODIES, timestamp=HEADER_TEXT, signature=HEADER_TEXT, sign=st.booleans())
# Both were 500s once: a signed body that is not UTF-8, and a digit isdigit() takes but int() not.
@example(body=b"payload=\xff\xfe", timestamp="", signature="", sign=True)
@example(body=b"payload=%7B%7D", timestamp="\u00b2", signature="v0=" + "0" * 64, sign=False)
def test_no_callback_gets_a_server_error_and_none_unsigned_reaches_prefect(
    body: bytes, timestamp: str, signature: str, sign: bool
) -> None:
    opened_before = PREFECT.opened
    headers = (
        sign_body(body)
        if sign
        else {
            "X-Slack-Request-Timestamp": timestamp,
            "X-Slack-Signature": signature,
        }
    )

    answer = asyncio.run(
        post(body, {name.encode(): value.encode("latin-1") for name, value in headers.items()})
    )

    assert answer.status_code < 500, answer.text
    if not sign:
        assert answer.status_code == 401
        assert PREFECT.opened == opened_before
