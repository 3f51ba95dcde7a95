"""Who may answer a request in Slack: the runbook's approvers, else the engine's, groups resolved.

A user group's members are asked of Slack (``usergroups.users.list``) when a button is pressed
and kept for a few minutes, so a press costs no Slack call most of the time, and a change to
the group shows within minutes. If Slack cannot be asked, the last answer is used however old;
with none, the press is refused (nobody is let through unchecked).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from engine.approvals.press import Allowed
from flows.approval import ApprovalRules
from flows.approval.wording import approvers_text
from integrations.slack import SlackChannel, SlackError

GROUP_TTL_SECONDS = 300.0


def split_approvers(
    ids: frozenset[str] | tuple[str, ...],
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Slack IDs as (users, user groups): group IDs start with S."""
    ordered = sorted(ids)
    return (
        tuple(i for i in ordered if not i.startswith("S")),
        tuple(i for i in ordered if i.startswith("S")),
    )


class ApproverDirectory:
    """Resolves a request's approvers to Slack user IDs (constructor-injected channel and clock)."""

    def __init__(
        self,
        channel: SlackChannel,
        *,
        default: frozenset[str] = frozenset(),
        ttl_seconds: float = GROUP_TTL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Ask ``channel``'s workspace about groups; ``default``: the engine's approver IDs."""
        self._channel = channel
        self._default = tuple(sorted(default))
        self._ttl = ttl_seconds
        self._clock = clock
        self._groups: dict[str, tuple[float, frozenset[str]]] = {}

    @property
    def default(self) -> tuple[str, ...]:
        """The engine's approvers (users and groups), for requests whose runbook names none."""
        return self._default

    async def allowed(self, rules: ApprovalRules) -> Allowed:
        """Who may answer a request with ``rules``.

        Raises:
            SlackError: a group's members could not be read, and were never read before.
        """
        named = approvers_text(rules, default=self._default)
        if rules.names_approvers:
            users, groups = rules.approvers, rules.approver_groups
        else:
            users, groups = split_approvers(self._default)
        if not users and not groups:
            return Allowed(None, named)
        members = set(users)
        for group in groups:
            members |= await self._members(group)
        return Allowed(frozenset(members), named)

    async def _members(self, group: str) -> frozenset[str]:
        cached = self._groups.get(group)
        if cached is not None and self._clock() - cached[0] < self._ttl:
            return cached[1]
        try:
            members = await asyncio.to_thread(self._channel.group_members, group)
        except SlackError:
            if cached is None:
                raise
            return cached[1]  # Slack is out of reach: the last known members
        self._groups[group] = (self._clock(), members)
        return members
