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
    """One channel of one workspace, through an injected Web API client."""

    def __init__(self, client: WebClient, channel: str) -> None:
        """Post through ``client`` to ``channel`` (an ID, C...)."""
        self._client = client
        self.channel = channel

    def post(self, text: str, blocks: list[Block]) -> MessageRef:
        """Post a message; where it is, to update it later.

        Raises:
            SlackUnavailableError: Slack could not be reached (after the client's retries).
            SlackRejectedError: Slack refused it (token, channel, scope); the error names the fix.
        """
        response = self._call("chat.postMessage", text=text, blocks=blocks)
        return MessageRef(channel=str(response["channel"]), ts=str(response["ts"]))

    def update(self, ref: MessageRef, text: str, blocks: list[Block]) -> None:
        """Replace a posted message's text and blocks (same errors as `post`)."""
        self._call("chat.update", channel=ref.channel, ts=ref.ts, text=text, blocks=blocks)

    def tell(self, user: str, text: str) -> None:
        """Show ``text`` to ``user`` only, in the channel (same errors as `post`)."""
        self._call("chat.postEphemeral", user=user, text=text)

    def _call(self, method: str, **arguments: Any) -> dict[str, Any]:
        arguments.setdefault("channel", self.channel)
        try:
            response = self._client.api_call(method, json=arguments)
        except (SlackApiError, SlackClientError, OSError) as error:
            raise translate(error, method=method) from error
        return dict(response.data) if isinstance(response.data, dict) else {}
