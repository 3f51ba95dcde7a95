"""Slack's failures as the project's own errors: transient (try again later) or permanent."""

from __future__ import annotations

import urllib.error

from slack_sdk.errors import SlackApiError, SlackClientError

#: What to change for each permanent Slack error code worth naming.
FIXES = {
    "invalid_auth": "check RUNBOOKS_SLACK_BOT_TOKEN (a bot token, xoxb-...)",
    "not_authed": "set RUNBOOKS_SLACK_BOT_TOKEN (a bot token, xoxb-...)",
    "account_inactive": "reinstall the Slack app and set its new bot token",
    "token_revoked": "reinstall the Slack app and set its new bot token",
    "channel_not_found": "set RUNBOOKS_SLACK_CHANNEL to a channel ID (C...) the app can see",
    "not_in_channel": "invite the app to the channel: /invite @service-runbooks",
    "is_archived": "unarchive the channel or set RUNBOOKS_SLACK_CHANNEL to another one",
    "missing_scope": "add the scopes of deploy/slack/manifest.yaml (chat:write, "
    "usergroups:read) to the Slack app and reinstall it",
    "no_such_subteam": "the approvers name a Slack user group that does not exist: correct its "
    "ID (S...) in the runbook's approval.approvers or in RUNBOOKS_SLACK_APPROVERS",
    "message_not_found": "the approval message was deleted; answer in the Prefect UI",
}
TRANSIENT_CODES = frozenset({"ratelimited", "rate_limited", "service_unavailable", "fatal_error"})


class SlackError(Exception):
    """Slack did not do what was asked."""


class SlackUnavailableError(SlackError):
    """Slack could not be reached or asked us to slow down; the same call may work later."""


class SlackRejectedError(SlackError):
    """Slack refused the call (configuration or permissions); retrying will not help.

    Attributes:
        code: Slack's error code, e.g. ``channel_not_found``.
    """

    def __init__(self, code: str, message: str) -> None:
        """Keep Slack's ``code`` with the message."""
        super().__init__(message)
        self.code = code


def translate(error: Exception, *, method: str) -> SlackError:
    """The project's error for a slack_sdk or network failure of ``method``."""
    if isinstance(error, SlackApiError):
        code = str(error.response.get("error") or "unknown_error")
        status = error.response.status_code
        if status == 429 or status >= 500 or code in TRANSIENT_CODES:
            return SlackUnavailableError(f"Slack {method}: {code} (HTTP {status})")
        fix = FIXES.get(code)
        needed = error.response.get("needed")
        if code == "missing_scope" and needed:
            fix = f"add the scope {needed} (deploy/slack/manifest.yaml) and reinstall the app"
        return SlackRejectedError(
            code, f"Slack {method} refused: {code}" + (f" (fix: {fix})" if fix else "")
        )
    if isinstance(error, SlackClientError | urllib.error.URLError | OSError):
        return SlackUnavailableError(f"Slack {method} unreachable: {error}")
    raise TypeError(f"not a Slack failure: {error!r}") from error
