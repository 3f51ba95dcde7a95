"""The webhook credentials: configured ones win; otherwise a token is generated once, privately."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from pydantic import SecretStr

from engine.intake.credentials import CredentialsError, webhook_auth
from engine.settings import EngineSettings


def _settings(tmp_path: Path, **overrides: object) -> EngineSettings:
    return EngineSettings(state_dir=tmp_path, **overrides)  # type: ignore[arg-type]  # pydantic's init takes the fields


def test_a_configured_token_is_used_as_it_is(tmp_path: Path) -> None:
    auth = webhook_auth(_settings(tmp_path, webhook_token=SecretStr("s3cret")))
    assert auth.authorization_header() == "Bearer s3cret"
    assert not (tmp_path / "webhook-token").exists()


def test_first_start_generates_a_token_only_the_owner_can_read(tmp_path: Path) -> None:
    auth = webhook_auth(_settings(tmp_path), generate=True)
    token_file = tmp_path / "webhook-token"
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    assert auth.authorization_header() == f"Bearer {token_file.read_text().strip()}"


def test_later_starts_and_the_fire_command_reuse_the_generated_token(tmp_path: Path) -> None:
    first = webhook_auth(_settings(tmp_path), generate=True)
    again = webhook_auth(_settings(tmp_path))
    assert first.authorization_header() == again.authorization_header()


def test_without_a_token_and_without_generating_the_error_says_how_to_get_one(
    tmp_path: Path,
) -> None:
    with pytest.raises(CredentialsError, match="RUNBOOKS_WEBHOOK_TOKEN"):
        webhook_auth(_settings(tmp_path))


def test_half_configured_basic_auth_is_refused_naming_both_variables(tmp_path: Path) -> None:
    with pytest.raises(CredentialsError, match="RUNBOOKS_WEBHOOK_BASIC_PASSWORD"):
        webhook_auth(_settings(tmp_path, webhook_basic_user="alertmanager"))


def test_basic_auth_alone_needs_no_token(tmp_path: Path) -> None:
    auth = webhook_auth(
        _settings(tmp_path, webhook_basic_user="am", webhook_basic_password=SecretStr("pw"))
    )
    assert auth.bearer_token is None
    assert auth.basic is not None
