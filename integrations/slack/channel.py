"""Posting to and updating messages in the approvals channel, failures translated at the edge."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from integrations.slack.errors import translate
from integrations.slack.messages import Block


@dataclass(frozen=True, slots=True)
class MessageRef:
    """Where a posted message is: its channel and timestamp (Slack's message id)."""

    channel: str
    ts: str


class SlackChannel:
    """One channel of one workspace, through an injected Web API client.

    Every call goes through the client's retry handlers (`SlackCredentials.get_client`): rate
    limits wait as long as Slack's Retry-After says, server errors are retried; what still
    fails raises a `SlackError`.
    """

    def __init__(self, client: WebClient, channel: str) -> None:
        """Post through ``client`` to ``channel`` (an ID, C...)."""
        self._client = client
        self.channel = channel

    def post(
        self, text: str, blocks: list[Block], *, thread: MessageRef | None = None
    ) -> MessageRef:
        """Post a message, in ``thread`` (a parent message) if given; where it is.

        Raises:
            SlackUnavailableError: Slack could not be reached (after the client's retries).
            SlackRejectedError: Slack refused it (token, channel, scope); the error names the fix.
        """
        arguments: dict[str, Any] = {"text": text, "blocks": blocks}
        if thread is not None:
            arguments.update(channel=thread.channel, thread_ts=thread.ts)
        response = self._call("chat.postMessage", **arguments)
        return MessageRef(channel=str(response["channel"]), ts=str(response["ts"]))

    def update(self, ref: MessageRef, text: str, blocks: list[Block]) -> None:
        """Replace a posted message's text and blocks (same errors as `post`)."""
        self._call("chat.update", channel=ref.channel, ts=ref.ts, text=text, blocks=blocks)

    def delete(self, ref: MessageRef) -> None:
        """Delete a message this bot posted (same errors as `post`)."""
        self._call("chat.delete", channel=ref.channel, ts=ref.ts)

    def identity(self) -> str:
        """Who the token is (``auth.test``): ``<bot user> in <team>``; proves the token works.

        Raises:
            SlackUnavailableError: Slack could not be reached.
            SlackRejectedError: the token is invalid or revoked; the error names the fix.
        """
        response = self._client_call("auth.test")
        return f"{response.get('user_id', '?')} in {response.get('team_id', '?')}"

    def tell(self, user: str, text: str, *, thread_ts: str | None = None) -> None:
        """Show ``text`` to ``user`` only, in the channel or a thread (same errors as `post`)."""
        arguments: dict[str, Any] = {"user": user, "text": text}
        if thread_ts:
            arguments["thread_ts"] = thread_ts
        self._call("chat.postEphemeral", **arguments)

    def group_members(self, group: str) -> frozenset[str]:
        """The user IDs of a user group's members (``usergroups.users.list``).

        Raises:
            SlackUnavailableError: Slack could not be reached.
            SlackRejectedError: no such group, or the app lacks ``usergroups:read``.
        """
        try:
            response = self._client.api_call(
                "usergroups.users.list", http_verb="GET", params={"usergroup": group}
            )
        except (SlackApiError, SlackClientError, OSError) as error:
            raise translate(error, method="usergroups.users.list") from error
        users = response.get("users") or []
        return frozenset(str(user) for user in users)

    def _call(self, method: str, **arguments: Any) -> dict[str, Any]:
        arguments.setdefault("channel", self.channel)
        return self._client_call(method, **arguments)

    def _client_call(self, method: str, **arguments: Any) -> dict[str, Any]:
        try:
            response = self._client.api_call(method, json=arguments)
        except (SlackApiError, SlackClientError, OSError) as error:
            raise translate(error, method=method) from error
        return dict(response.data) if isinstance(response.data, dict) else {}
