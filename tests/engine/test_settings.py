"""Engine settings: defaults that run anywhere, and bad values refused with the variable to fix."""

from __future__ import annotations

import pytest

from engine.cli import main
from engine.settings import EngineSettings


def test_by_default_a_silent_run_is_crashed_after_four_missed_heartbeats(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("RUNBOOKS_RUN_HEARTBEAT_SECONDS", "RUNBOOKS_UNRESPONSIVE_AFTER_SECONDS"):
        monkeypatch.delenv(name, raising=False)

    settings = EngineSettings()

    assert settings.run_heartbeat_seconds == 30
    assert settings.unresponsive_after_seconds == 120


def test_a_silence_shorter_than_two_heartbeats_is_refused_naming_both_variables(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("RUNBOOKS_RUN_HEARTBEAT_SECONDS", "60")
    monkeypatch.setenv("RUNBOOKS_UNRESPONSIVE_AFTER_SECONDS", "90")

    assert main(["list"]) == 2

    err = capsys.readouterr().err
    assert (
        "unresponsive_after_seconds (90) must be at least twice run_heartbeat_seconds (60)" in err
    )
    assert (
        "raise RUNBOOKS_UNRESPONSIVE_AFTER_SECONDS or lower RUNBOOKS_RUN_HEARTBEAT_SECONDS" in err
    )


def test_each_bad_setting_is_named_by_its_variable_with_the_value_given(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("RUNBOOKS_SIM_PORT", "sixty")
    monkeypatch.setenv("RUNBOOKS_RUN_HEARTBEAT_SECONDS", "5")

    assert main(["list"]) == 2

    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == "error: bad engine settings:"
    assert lines[1].startswith("RUNBOOKS_SIM_PORT: Input should be a valid integer")
    assert lines[1].endswith("(got 'sixty')")
    assert lines[2] == (
        "RUNBOOKS_RUN_HEARTBEAT_SECONDS: Input should be greater than or equal to 30 (got '5')"
    )


SLACK = {
    "RUNBOOKS_SLACK_BOT_TOKEN": "xoxb-test",
    "RUNBOOKS_SLACK_SIGNING_SECRET": "secret",
    "RUNBOOKS_SLACK_CHANNEL": "C0123ABC",
}


def test_slack_approvals_are_off_until_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in SLACK:
        monkeypatch.delenv(name, raising=False)

    assert EngineSettings().slack_credentials() is None


def test_slack_approvals_take_the_token_secret_channel_and_approvers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in SLACK.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("RUNBOOKS_SLACK_APPROVERS", " U1, U2 ,,")

    settings = EngineSettings()
    credentials = settings.slack_credentials()

    assert credentials is not None
    assert credentials.bot_token.get_secret_value() == "xoxb-test"
    assert credentials.channel == "C0123ABC"
    assert settings.slack_approver_ids == frozenset({"U1", "U2"})


def test_a_partial_slack_configuration_is_refused_naming_what_is_missing(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in SLACK:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("RUNBOOKS_SLACK_BOT_TOKEN", "xoxb-test")

    assert main(["list"]) == 2

    err = capsys.readouterr().err
    assert "set RUNBOOKS_SLACK_SIGNING_SECRET, RUNBOOKS_SLACK_CHANNEL too" in err


def test_a_webhook_token_read_from_a_file_loses_its_trailing_newline(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RUNBOOKS_WEBHOOK_TOKEN", "5f0c3a9d1e7b2c44\n")

    token = EngineSettings().webhook_token

    assert token is not None
    assert token.get_secret_value() == "5f0c3a9d1e7b2c44"


def test_logs_are_text_on_a_terminal_and_json_elsewhere_unless_told(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("RUNBOOKS_LOG_FORMAT", raising=False)

    assert EngineSettings().log_format == "auto"


@pytest.mark.parametrize(
    ("given", "read"), [("text", "text"), ("JSON", "json"), (" auto ", "auto")]
)
def test_the_log_format_is_one_of_three_words_in_any_case(
    given: str, read: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RUNBOOKS_LOG_FORMAT", given)

    assert EngineSettings().log_format == read


def test_an_unknown_log_format_is_refused_at_start_up_with_the_three_allowed(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("RUNBOOKS_LOG_FORMAT", "yaml")

    assert main(["up"]) == 2

    assert capsys.readouterr().err.splitlines() == [
        "error: bad engine settings:",
        "RUNBOOKS_LOG_FORMAT: Input should be 'auto', 'text' or 'json' (got 'yaml')",
    ]
