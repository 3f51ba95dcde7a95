"""The runtime a worker-run flow builds from RUNBOOKS_* settings when no engine installed one."""

from __future__ import annotations

import pytest

from flows.approval import LogNotifier
from flows.approval.slack import SlackNotifier
from flows.runtime import RuntimeSettings, runtime_from_settings

SLACK = {
    "RUNBOOKS_SLACK_BOT_TOKEN": "xoxb-test",
    "RUNBOOKS_SLACK_SIGNING_SECRET": "secret",
    "RUNBOOKS_SLACK_CHANNEL": "C0123ABC",
}


def test_with_the_engines_slack_settings_approvals_are_posted_to_slack(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in SLACK.items():
        monkeypatch.setenv(name, value)

    runtime = runtime_from_settings(RuntimeSettings())

    assert isinstance(runtime.notifier, SlackNotifier)


@pytest.mark.parametrize("missing", sorted(SLACK))
def test_without_every_slack_setting_approvals_are_only_logged(
    monkeypatch: pytest.MonkeyPatch, missing: str
) -> None:
    for name, value in SLACK.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv(missing)

    runtime = runtime_from_settings(RuntimeSettings())

    assert isinstance(runtime.notifier, LogNotifier)
