"""The approvals channel through the real slack_sdk against a local fake of Slack's Web API."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from integrations.slack import (
    ApprovalMessage,
    MessageItem,
    SlackChannel,
    SlackCredentials,
    SlackRejectedError,
    SlackUnavailableError,
    approval_blocks,
    decided_blocks,
)
from tests.slack_fake import FakeSlack

MESSAGE = ApprovalMessage(
    run_id="6060c15e-1b40-497a-bf42-55c496e1917e",
    gate="rollback-kube-proxy",
    request_id="9c1d4e2f7a0b3c5d",
    title="Roll kube-proxy back from revision 2 to 1",
    items=(MessageItem("Roll DaemonSet kube-system/kube-proxy back", "5 nodes", ("-a", "+b")),),
    deadline=datetime(2026, 11, 25, 23, 0, 30, 123456, tzinfo=UTC),
)


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    """A fake Slack workspace with the approvals channel C0123ABC."""
    with FakeSlack(token="xoxb-test") as fake:
        yield fake


def channel_on(
    slack: FakeSlack, *, token: str = "xoxb-test", channel: str = "C0123ABC"
) -> SlackChannel:
    """The approvals channel, through a client made from credentials as the engine makes it."""
    credentials = SlackCredentials(
        bot_token=token, signing_secret="s", channel=channel, api_url=slack.base_url
    )
    return SlackChannel(credentials.get_client(), credentials.channel)


def test_a_request_is_posted_with_its_buttons_and_updated_in_place_once_answered(
    slack: FakeSlack,
) -> None:
    channel = channel_on(slack)

    ref = channel.post(*approval_blocks(MESSAGE))
    channel.update(ref, *decided_blocks(MESSAGE, "Approved by alice"))

    [message] = slack.messages("C0123ABC")
    assert message["ts"] == ref.ts
    assert message["text"] == "Roll kube-proxy back from revision 2 to 1: Approved by alice"
    assert message["blocks"][-1]["text"]["text"] == "*Approved by alice*"
    [posted] = slack.calls("chat.postMessage")
    buttons = posted.body["blocks"][-1]["elements"]
    assert [b["action_id"] for b in buttons] == ["approve", "reject"]
    assert {b["value"] for b in buttons} == {
        f"{MESSAGE.run_id}/{MESSAGE.gate}/{MESSAGE.request_id}"
    }


def test_the_deadline_is_shown_in_each_readers_time_zone_without_microseconds() -> None:
    _, blocks = approval_blocks(MESSAGE)

    [footer] = [b for b in blocks if b["type"] == "context"]
    assert footer["elements"][0]["text"].startswith(
        "No answer by <!date^1795647630^{date_short_pretty} {time}|2026-11-25 23:00 UTC> rejects."
    )


def test_a_plan_larger_than_a_message_keeps_within_slacks_50_blocks_and_says_what_is_left(
    slack: FakeSlack,
) -> None:
    steps = tuple(
        MessageItem(f"Restart pod web-{n}", "one pod", ("x" * 80,) * 40) for n in range(80)
    )
    large = replace(MESSAGE, items=steps, notes=("a note",), rules=("Who may answer: anyone.",))

    text, blocks = approval_blocks(large, note="Approved by <@U1>; a second approver is needed.")
    channel_on(slack).post(text, blocks)

    assert len(blocks) == 50
    assert blocks[-1]["type"] == "actions"
    assert any("more steps in Prefect" in json.dumps(b) for b in blocks)
    assert all(len(b["text"]["text"]) <= 3000 for b in blocks if b["type"] == "section")


def test_a_reply_goes_in_the_parents_thread(slack: FakeSlack) -> None:
    channel = channel_on(slack)

    parent = channel.post("ServiceDown on shop/web", [])
    reply = channel.post("Approved", [], thread=parent)

    messages = slack.messages("C0123ABC")
    assert [m.get("thread_ts") for m in messages] == [None, parent.ts]
    assert reply.ts != parent.ts


def test_a_user_groups_members_are_read_from_slack(slack: FakeSlack) -> None:
    slack.add_user_group("S0ONCALL", ["U1", "U2"])

    assert channel_on(slack).group_members("S0ONCALL") == {"U1", "U2"}


def test_an_unknown_user_group_is_refused_with_the_setting_to_fix(slack: FakeSlack) -> None:
    with pytest.raises(SlackRejectedError, match=r"no_such_subteam.*RUNBOOKS_SLACK_APPROVERS"):
        channel_on(slack).group_members("S0NOPE")


def test_a_user_is_told_privately(slack: FakeSlack) -> None:
    channel_on(slack).tell("U0123ABCD", "You are not on the approver list")

    [told] = slack.calls("chat.postEphemeral")
    assert told.body["user"] == "U0123ABCD"
    assert told.body["channel"] == "C0123ABC"


@pytest.mark.parametrize(
    ("token", "channel", "fix"),
    [
        ("xoxb-wrong", "C0123ABC", "check RUNBOOKS_SLACK_BOT_TOKEN"),
        ("xoxb-test", "C0NOPE", "set RUNBOOKS_SLACK_CHANNEL to a channel ID"),
    ],
    ids=["bad-token", "unknown-channel"],
)
def test_a_refusal_is_permanent_and_names_the_setting_to_fix(
    slack: FakeSlack, token: str, channel: str, fix: str
) -> None:
    with pytest.raises(SlackRejectedError, match=fix):
        channel_on(slack, token=token, channel=channel).post(*approval_blocks(MESSAGE))


def test_rate_limiting_is_ridden_out_by_the_clients_retries(slack: FakeSlack) -> None:
    slack.fail_next("chat.postMessage", "ratelimited", status=429, retry_after=1)

    channel_on(slack).post(*approval_blocks(MESSAGE))

    assert len(slack.calls("chat.postMessage")) == 2


def test_rate_limiting_that_outlasts_the_retries_is_transient(slack: FakeSlack) -> None:
    slack.fail_next("chat.postMessage", "ratelimited", status=429, retry_after=1, times=3)

    with pytest.raises(SlackUnavailableError, match="ratelimited"):
        channel_on(slack).post(*approval_blocks(MESSAGE))


def test_slack_out_of_reach_is_transient() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    credentials = SlackCredentials(
        bot_token="xoxb-test",
        signing_secret="s",
        channel="C0123ABC",
        api_url=f"http://127.0.0.1:{port}/api/",
        timeout_seconds=1,
    )
    channel = SlackChannel(credentials.get_client(), credentials.channel)

    with pytest.raises(SlackUnavailableError, match="unreachable"):
        channel.post(*approval_blocks(MESSAGE))
