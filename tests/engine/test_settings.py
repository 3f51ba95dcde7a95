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
