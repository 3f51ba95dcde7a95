"""The Slack fake answers the real slack_sdk WebClient as Slack's Web API would."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from decimal import Decimal

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

from tests.slack_fake import FakeSlack, SlackCall

TOKEN = "xoxb-test"
CHANNEL = "C0123ABC"
BLOCKS = [{"type": "section", "text": {"type": "mrkdwn", "text": "*ServiceDown* prod/checkout"}}]


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    """A fake Slack accepting TOKEN, with CHANNEL as its only channel."""
    with FakeSlack(token=TOKEN) as fake:
        yield fake


@pytest.fixture
def client(slack: FakeSlack) -> WebClient:
    """A real WebClient pointed at the fake, with no retry handler for HTTP 429."""
    return WebClient(token=TOKEN, base_url=slack.base_url, timeout=10)


def test_post_message_is_recorded_kept_in_the_channel_and_given_a_ts(
    slack: FakeSlack, client: WebClient
) -> None:
    response = client.chat_postMessage(channel=CHANNEL, text="ServiceDown", blocks=BLOCKS)

    ts = response["ts"]
    assert response["ok"] is True
    assert response["channel"] == CHANNEL
    assert response["message"]["text"] == "ServiceDown"
    assert response["message"]["blocks"] == BLOCKS
    assert slack.calls() == [
        SlackCall(
            "chat.postMessage", {"channel": CHANNEL, "text": "ServiceDown", "blocks": BLOCKS}, TOKEN
        )
    ]
    assert slack.messages(CHANNEL) == [{"ts": ts, "text": "ServiceDown", "blocks": BLOCKS}]


def test_every_posted_message_gets_its_own_later_ts(client: WebClient) -> None:
    stamps = [client.chat_postMessage(channel=CHANNEL, text=str(i))["ts"] for i in range(5)]

    assert len(set(stamps)) == 5
    assert stamps == sorted(stamps, key=Decimal)


def test_update_replaces_the_text_and_blocks_of_the_message_with_that_ts(
    slack: FakeSlack, client: WebClient
) -> None:
    first = client.chat_postMessage(channel=CHANNEL, text="Approve?", blocks=BLOCKS)["ts"]
    second = client.chat_postMessage(channel=CHANNEL, text="untouched")["ts"]

    response = client.chat_update(channel=CHANNEL, ts=first, text="Approved by U1", blocks=[])

    assert (response["ts"], response["text"]) == (first, "Approved by U1")
    assert response["message"]["blocks"] == []
    assert slack.messages(CHANNEL) == [
        {"ts": first, "text": "Approved by U1", "blocks": []},
        {"ts": second, "text": "untouched", "blocks": []},
    ]


def test_updating_an_unknown_ts_answers_message_not_found(client: WebClient) -> None:
    with pytest.raises(SlackApiError) as raised:
        client.chat_update(channel=CHANNEL, ts="1700000000.000100", text="x")

    assert raised.value.response["error"] == "message_not_found"


def test_an_unknown_token_is_refused_with_invalid_auth_and_still_recorded(
    slack: FakeSlack,
) -> None:
    stranger = WebClient(token="xoxb-wrong", base_url=slack.base_url, timeout=10)

    with pytest.raises(SlackApiError) as raised:
        stranger.chat_postMessage(channel=CHANNEL, text="x")

    assert raised.value.response.status_code == 200
    assert raised.value.response["error"] == "invalid_auth"
    assert [c.token for c in slack.calls()] == ["xoxb-wrong"]
    assert slack.messages(CHANNEL) == []


def test_a_call_without_a_token_is_refused_with_invalid_auth(slack: FakeSlack) -> None:
    anonymous = WebClient(base_url=slack.base_url, timeout=10)

    with pytest.raises(SlackApiError) as raised:
        anonymous.auth_test()

    assert raised.value.response["error"] == "invalid_auth"
    assert slack.calls("auth.test")[0].token is None


def test_posting_to_an_unknown_channel_answers_channel_not_found(
    slack: FakeSlack, client: WebClient
) -> None:
    with pytest.raises(SlackApiError) as raised:
        client.chat_postMessage(channel="C999NOPE", text="x")

    assert raised.value.response["error"] == "channel_not_found"
    assert slack.messages("C999NOPE") == []


def test_a_rate_limit_injected_with_fail_next_reaches_the_client_as_http_429(
    slack: FakeSlack, client: WebClient
) -> None:
    slack.fail_next("chat.postMessage", "ratelimited", status=429, retry_after=30)

    with pytest.raises(SlackApiError) as raised:
        client.chat_postMessage(channel=CHANNEL, text="x")

    assert raised.value.response.status_code == 429
    assert raised.value.response.headers["Retry-After"] == "30"
    assert raised.value.response["error"] == "ratelimited"
    # Used up: the next call goes through.
    assert client.chat_postMessage(channel=CHANNEL, text="x")["ok"] is True


def test_fail_next_fails_only_its_method_and_only_as_many_times_as_asked(
    slack: FakeSlack, client: WebClient
) -> None:
    slack.fail_next("chat.postMessage", "fatal_error", times=2)

    assert client.auth_test()["user_id"] == "U0BOT"
    for _ in range(2):
        with pytest.raises(SlackApiError) as raised:
            client.chat_postMessage(channel=CHANNEL, text="x")
        assert raised.value.response["error"] == "fatal_error"
    assert client.chat_postMessage(channel=CHANNEL, text="x")["ok"] is True


def test_a_client_with_a_rate_limit_retry_handler_succeeds_on_the_retry(
    slack: FakeSlack,
) -> None:
    patient = WebClient(
        token=TOKEN,
        base_url=slack.base_url,
        timeout=10,
        retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=1)],
    )
    slack.fail_next("chat.postMessage", "ratelimited", status=429, retry_after=1, times=1)

    started = time.monotonic()
    response = patient.chat_postMessage(channel=CHANNEL, text="after the wait")

    assert response["ok"] is True
    assert time.monotonic() - started >= 1  # it honoured Retry-After
    assert len(slack.calls("chat.postMessage")) == 2
    assert [m["text"] for m in slack.messages(CHANNEL)] == ["after the wait"]


def test_form_encoded_and_json_bodies_are_understood_alike(
    slack: FakeSlack, client: WebClient
) -> None:
    client.api_call("chat.postMessage", json={"channel": CHANNEL, "text": "as json"})
    # params= makes slack_sdk send application/x-www-form-urlencoded, blocks as a JSON string.
    client.api_call(
        "chat.postMessage",
        params={"channel": CHANNEL, "text": "as form", "blocks": json.dumps(BLOCKS)},
    )
    # data= makes it send multipart/form-data.
    client.api_call("chat.postMessage", data={"channel": CHANNEL, "text": "as multipart"})

    assert [c.body for c in slack.calls("chat.postMessage")] == [
        {"channel": CHANNEL, "text": "as json"},
        {"channel": CHANNEL, "text": "as form", "blocks": BLOCKS},
        {"channel": CHANNEL, "text": "as multipart"},
    ]
    assert [(m["text"], m["blocks"]) for m in slack.messages(CHANNEL)] == [
        ("as json", []),
        ("as form", BLOCKS),
        ("as multipart", []),
    ]


def test_auth_test_and_post_ephemeral_answer_like_slack(client: WebClient) -> None:
    identity = client.auth_test()
    ephemeral = client.chat_postEphemeral(channel=CHANNEL, user="U1", text="only you")

    assert (identity["user_id"], identity["team_id"], identity["bot_id"]) == (
        "U0BOT",
        "T0123ABCD",
        "B0123ABCD",
    )
    assert ephemeral["message_ts"]


def test_a_method_the_fake_does_not_implement_answers_unknown_method(
    slack: FakeSlack, client: WebClient
) -> None:
    with pytest.raises(SlackApiError) as raised:
        client.api_call("conversations.list")

    assert raised.value.response["error"] == "unknown_method"
    assert [c.method for c in slack.calls()] == ["conversations.list"]


def test_wait_for_returns_the_calls_once_they_arrived(slack: FakeSlack, client: WebClient) -> None:
    client.chat_postMessage(channel=CHANNEL, text="x")

    assert [c.method for c in slack.wait_for("chat.postMessage")] == ["chat.postMessage"]


def test_wait_for_names_what_it_saw_when_the_calls_never_come(
    slack: FakeSlack, client: WebClient
) -> None:
    client.auth_test()

    with pytest.raises(AssertionError, match=r"chat\.update.*auth\.test"):
        slack.wait_for("chat.update", within=0.2)


def test_base_url_is_usable_only_while_serving() -> None:
    fake = FakeSlack()
    with fake:
        assert fake.base_url.startswith("http://127.0.0.1:")
        assert fake.base_url.endswith("/api/")
    with pytest.raises(RuntimeError):
        _ = fake.base_url


def test_a_user_groups_members_are_listed_and_an_unknown_group_is_refused(
    slack: FakeSlack, client: WebClient
) -> None:
    slack.add_user_group("S0ONCALL", ["U1", "U2"])

    listed = client.usergroups_users_list(usergroup="S0ONCALL")
    with pytest.raises(SlackApiError) as refused:
        client.usergroups_users_list(usergroup="S0NOPE")

    assert listed["users"] == ["U1", "U2"]
    assert refused.value.response["error"] == "no_such_subteam"
