"""Slack adapter: the only module that imports slack_sdk.

A run's conversation goes to one channel: a parent message and its thread, where approval
requests carry Approve and Reject buttons (`messages`, `SlackChannel`); Slack's callbacks are
verified with its signing secret (`verify_signature`) and read into a `ButtonPress`. Failures
surface as `SlackError`s, transient or permanent.
"""

from integrations.slack.channel import MessageRef, SlackChannel
from integrations.slack.credentials import SlackCredentials
from integrations.slack.errors import SlackError, SlackRejectedError, SlackUnavailableError
from integrations.slack.format import group_mention, mention, slack_date
from integrations.slack.interactions import ButtonPress, InteractionError, parse_button_press
from integrations.slack.messages import (
    ApprovalMessage,
    MessageItem,
    ParentMessage,
    approval_blocks,
    decided_blocks,
    line_blocks,
    parent_blocks,
)
from integrations.slack.signature import InvalidSignatureError, verify_signature

__all__ = [
    "ApprovalMessage",
    "ButtonPress",
    "InteractionError",
    "InvalidSignatureError",
    "MessageItem",
    "MessageRef",
    "ParentMessage",
    "SlackChannel",
    "SlackCredentials",
    "SlackError",
    "SlackRejectedError",
    "SlackUnavailableError",
    "approval_blocks",
    "decided_blocks",
    "group_mention",
    "line_blocks",
    "mention",
    "parent_blocks",
    "parse_button_press",
    "slack_date",
    "verify_signature",
]
