"""Slack adapter: the only module that imports slack_sdk.

Approvals go to one channel as messages with Approve and Reject buttons (`messages`,
`SlackChannel`); Slack's callbacks are verified with its signing secret (`verify_signature`) and
read into a `ButtonPress`. Failures surface as `SlackError`s, transient or permanent.
"""

from integrations.slack.channel import MessageRef, SlackChannel
from integrations.slack.credentials import SlackCredentials
from integrations.slack.errors import SlackError, SlackRejectedError, SlackUnavailableError
from integrations.slack.interactions import ButtonPress, InteractionError, parse_button_press
from integrations.slack.messages import (
    ApprovalMessage,
    MessageItem,
    approval_blocks,
    decided_blocks,
)
from integrations.slack.signature import InvalidSignatureError, verify_signature

__all__ = [
    "ApprovalMessage",
    "ButtonPress",
    "InteractionError",
    "InvalidSignatureError",
    "MessageItem",
    "MessageRef",
    "SlackChannel",
    "SlackCredentials",
    "SlackError",
    "SlackRejectedError",
    "SlackUnavailableError",
    "approval_blocks",
    "decided_blocks",
    "parse_button_press",
    "verify_signature",
]
