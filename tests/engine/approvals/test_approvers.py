"""Who may answer: the runbook's approvers or the engine's, user groups asked of Slack and kept."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from engine.approvals.approvers import ApproverDirectory
from flows.approval import ApprovalRules
from integrations.slack import SlackChannel, SlackCredentials, SlackRejectedError
from tests.slack_fake import FakeSlack


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    """A fake Slack workspace with the on-call group S0ONCALL (U1, U2)."""
    with FakeSlack(token="xoxb-test") as fake:
        fake.add_user_group("S0ONCALL", ["U1", "U2"])
        yield fake


class Clock:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def directory(
    slack: FakeSlack, *, default: frozenset[str] = frozenset(), clock: Clock | None = None
) -> ApproverDirectory:
    credentials = SlackCredentials(
        bot_token="xoxb-test", signing_secret="s", channel="C0123ABC", api_url=slack.base_url
    )
    channel = SlackChannel(credentials.get_client(), credentials.channel)
    return ApproverDirectory(channel, default=default, ttl_seconds=300, clock=clock or Clock())


@pytest.mark.parametrize(
    ("rules", "default", "members", "named"),
    [
        (ApprovalRules(), frozenset(), None, "anyone who can see this message"),
        (ApprovalRules(), frozenset({"U9"}), {"U9"}, "<@U9>"),
        (
            ApprovalRules(),
            frozenset({"U9", "S0ONCALL"}),
            {"U1", "U2", "U9"},
            "<@U9>, members of <!subteam^S0ONCALL>",
        ),
        (ApprovalRules(approvers=("U7",)), frozenset({"U9"}), {"U7"}, "<@U7>"),
        (
            ApprovalRules(approver_groups=("S0ONCALL",)),
            frozenset({"U9"}),
            {"U1", "U2"},
            "members of <!subteam^S0ONCALL>",
        ),
    ],
    ids=[
        "nobody-named-anyone",
        "the-engines-list",
        "the-engines-list-with-a-group",
        "the-runbooks-users",
        "the-runbooks-group",
    ],
)
async def test_the_runbooks_approvers_else_the_engines_else_anyone(
    slack: FakeSlack,
    rules: ApprovalRules,
    default: frozenset[str],
    members: set[str] | None,
    named: str,
) -> None:
    allowed = await directory(slack, default=default).allowed(rules)

    assert allowed.members == (None if members is None else frozenset(members))
    assert allowed.named == named


async def test_a_groups_members_are_asked_of_slack_once_in_a_while(slack: FakeSlack) -> None:
    clock = Clock()
    approvers = directory(slack, clock=clock)
    rules = ApprovalRules(approver_groups=("S0ONCALL",))

    for _ in range(3):
        await approvers.allowed(rules)
    clock.now = 301
    slack.add_user_group("S0ONCALL", ["U3"])
    later = await approvers.allowed(rules)

    assert len(slack.calls("usergroups.users.list")) == 2
    assert later.members == frozenset({"U3"})


async def test_slack_out_of_reach_keeps_the_last_known_members(slack: FakeSlack) -> None:
    clock = Clock()
    approvers = directory(slack, clock=clock)
    rules = ApprovalRules(approver_groups=("S0ONCALL",))
    await approvers.allowed(rules)
    clock.now = 301
    slack.fail_next("usergroups.users.list", "service_unavailable", status=503, times=3)

    assert (await approvers.allowed(rules)).members == frozenset({"U1", "U2"})


async def test_a_group_slack_does_not_know_lets_nobody_through(slack: FakeSlack) -> None:
    with pytest.raises(SlackRejectedError, match="no_such_subteam"):
        await directory(slack).allowed(ApprovalRules(approver_groups=("S0NOPE",)))
