"""The Slack interaction endpoint's refusals: what is too big, not ours, or names no run."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from typing import Any, Self

import httpx
import pytest
from prefect.client.orchestration import PrefectClient
from starlette.applications import Starlette
from starlette.routing import Route

from engine.approvals.slack import MAX_BODY_BYTES, SlackActions
from integrations.slack import SlackChannel, SlackCredentials
from tests.engine.served import served
from tests.slack_fake import FakeSlack, SlackCall
from tests.slack_press import (
    SIGNING_SECRET,
    callback_body,
    press_payload,
    sign_body,
    signed_press,
)


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    """A fake Slack workspace with the approvals channel C0123ABC."""
    with FakeSlack(token="xoxb-test") as fake:
        yield fake


@pytest.fixture
def endpoint(slack: FakeSlack, prefect_api_url: str) -> Iterator[str]:
    """The endpoint served on 127.0.0.1, telling refusals through the fake Slack."""
    credentials = SlackCredentials(
        bot_token="xoxb-test",
        signing_secret=SIGNING_SECRET,
        channel="C0123ABC",
        api_url=slack.base_url,
    )
    actions = SlackActions(
        signing_secret=SIGNING_SECRET,
        channel=SlackChannel(credentials.get_client(), credentials.channel),
    )
    app = Starlette(routes=[Route("/slack/interactions", actions.handle, methods=["POST"])])
    with served(app) as url:
        yield f"{url}/slack/interactions"


def message_with_buttons(value: str, *, blocks: list[dict[str, Any]] | None = None) -> SlackCall:
    """A posted approval message whose buttons carry ``value`` (after ``blocks``)."""
    buttons = [{"action_id": a, "value": value} for a in ("approve", "reject")]
    body = {"text": "Approve 1 step", "blocks": [*(blocks or []), {"elements": buttons}]}
    return SlackCall("chat.postMessage", body, "xoxb-test")


def test_a_body_over_the_limit_is_refused_before_it_is_read_whole(endpoint: str) -> None:
    answer = httpx.post(endpoint, content=b"x" * (MAX_BODY_BYTES + 1), timeout=10)

    assert answer.status_code == 413
    assert "over the limit" in answer.text


def test_a_press_on_slacks_largest_message_fits_the_body_limit(
    endpoint: str, slack: FakeSlack
) -> None:
    # 49 blocks of 3,000 characters, none of them ASCII (9 bytes each once form-encoded),
    # and the buttons: the largest message Slack sends back with a press.
    text = "ü" * 1000 + "→" * 2000
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": text}}] * 49
    posted = message_with_buttons("run-123/checklist-approval/4f1c2e9ab7d05a63", blocks=blocks)
    body, headers = signed_press(posted, "approve", user="U1")

    answer = httpx.post(endpoint, content=body, headers=headers, timeout=30)

    assert len(body) > 1_000_000
    assert answer.status_code == 200
    [told] = slack.wait_for("chat.postEphemeral")
    assert "'run-123' is not a flow run id" in told.body["text"]


def test_a_signed_callback_that_is_not_a_button_press_is_refused_naming_the_field(
    endpoint: str,
) -> None:
    payload = press_payload(message_with_buttons("run/gate/request"), "approve", user="U1")
    body = callback_body({**payload, "type": "view_submission"})
    headers = sign_body(body)

    answer = httpx.post(endpoint, content=body, headers=headers, timeout=10)

    assert answer.status_code == 400
    assert "payload.type: 'view_submission', only block_actions is handled" in answer.text


def test_a_press_naming_no_flow_run_is_told_to_the_user_and_answers_nothing(
    endpoint: str, slack: FakeSlack
) -> None:
    body, headers = signed_press(message_with_buttons("run-123/gate/req"), "approve", user="U1")

    answer = httpx.post(endpoint, content=body, headers=headers, timeout=10)

    assert answer.status_code == 200
    [told] = slack.wait_for("chat.postEphemeral")
    assert told.body["user"] == "U1"
    assert "'run-123' is not a flow run id; nothing was answered" in told.body["text"]


def test_a_press_naming_a_run_that_no_longer_exists_is_told_so(
    endpoint: str, slack: FakeSlack
) -> None:
    gone = uuid.uuid4()
    body, headers = signed_press(
        message_with_buttons(f"{gone}/checklist-approval/4f1c2e9ab7d05a63"), "approve", user="U1"
    )

    answer = httpx.post(endpoint, content=body, headers=headers, timeout=10)

    assert answer.status_code == 200
    [told] = slack.wait_for("chat.postEphemeral")
    assert told.body["text"] == (
        "This request's run no longer exists in Prefect (it was deleted). Nothing was changed."
    )


class SlowPrefect(PrefectClient):
    """A Prefect API that takes longer than Slack waits, then turns out to be down."""

    async def __aenter__(self) -> Self:
        await asyncio.sleep(4)  # longer than the 3 s Slack waits for an answer
        raise httpx.ConnectError("Prefect is down")


def test_a_press_is_answered_at_once_while_prefect_is_slow_and_told_once_it_is_known(
    slack: FakeSlack, prefect_api_url: str
) -> None:
    credentials = SlackCredentials(
        bot_token="xoxb-test",
        signing_secret=SIGNING_SECRET,
        channel="C0123ABC",
        api_url=slack.base_url,
    )
    actions = SlackActions(
        signing_secret=SIGNING_SECRET,
        channel=SlackChannel(credentials.get_client(), credentials.channel),
        prefect=lambda: SlowPrefect("http://127.0.0.1:9"),
    )
    app = Starlette(routes=[Route("/slack/interactions", actions.handle, methods=["POST"])])
    run = uuid.uuid4()
    body, headers = signed_press(
        message_with_buttons(f"{run}/checklist-approval/4f1c2e9ab7d05a63"), "approve", user="U1"
    )

    with served(app) as url:
        began = time.monotonic()
        answer = httpx.post(f"{url}/slack/interactions", content=body, headers=headers, timeout=10)
        answered_in = time.monotonic() - began
        [told] = slack.wait_for("chat.postEphemeral", within=30)

    assert answer.status_code == 200
    assert answered_in < 2
    assert told.body["text"].startswith("Prefect could not be reached, so nothing was changed")
