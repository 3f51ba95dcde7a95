"""Slack's own formatting: people and groups as mentions, times in each reader's time zone."""

from __future__ import annotations

from datetime import UTC, datetime


def mention(user_id: str) -> str:
    """``<@U123>``: Slack shows the person's name, and links their profile."""
    return f"<@{user_id}>"


def group_mention(group_id: str) -> str:
    """``<!subteam^S123>``: Slack shows the user group's handle."""
    return f"<!subteam^{group_id}>"


def slack_date(moment: datetime) -> str:
    """A time Slack shows in each reader's own time zone (``Today 09:15``), to the minute.

    Clients that cannot render it show the fallback, the time in UTC.
    """
    epoch = int(moment.timestamp())
    fallback = moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{epoch}^{{date_short_pretty}} {{time}}|{fallback}>"
