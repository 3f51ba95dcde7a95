"""Slack approvals as the engine starts them: with nobody named to answer, it says who may."""

from __future__ import annotations

import logging

import pytest

from engine.settings import EngineSettings
from engine.startup import slack_approvals

SLACK = {
    "RUNBOOKS_SLACK_BOT_TOKEN": "xoxb-test",
    "RUNBOOKS_SLACK_SIGNING_SECRET": "s",
    "RUNBOOKS_SLACK_CHANNEL": "C0123ABC",
}


@pytest.fixture
def slack_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """Slack configured in the environment, with no approver list."""
    for name, value in SLACK.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("RUNBOOKS_SLACK_APPROVERS", raising=False)


@pytest.mark.usefixtures("slack_settings")
def test_without_an_approver_list_the_engine_says_who_may_answer_at_start_up(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="engine.startup"):
        approvals = slack_approvals(EngineSettings(), ui_url="http://prefect.example")

    assert approvals is not None
    assert approvals.approvers == frozenset()
    [said] = [r.getMessage() for r in caplog.records if r.name == "engine.startup"]
    assert said.startswith(
        "RUNBOOKS_SLACK_APPROVERS is empty: anyone who can see the approvals channel C0123ABC "
        "(any workspace member, if it is public) may answer"
    )


@pytest.mark.usefixtures("slack_settings")
def test_an_approver_list_of_users_and_groups_is_taken_quietly(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("RUNBOOKS_SLACK_APPROVERS", "U0ALICE, S0ONCALL")

    with caplog.at_level(logging.WARNING, logger="engine.startup"):
        approvals = slack_approvals(EngineSettings(), ui_url="http://prefect.example")

    assert approvals is not None
    assert approvals.approvers == frozenset({"U0ALICE", "S0ONCALL"})
    assert [r for r in caplog.records if r.name == "engine.startup"] == []
