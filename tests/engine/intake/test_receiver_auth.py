"""Webhook credentials: bearer or basic, compared in constant time, never open by accident."""

from __future__ import annotations

import base64

import pytest
from pydantic import SecretStr

from engine.intake.auth import BasicCredentials, WebhookAuth, is_authorized

BEARER_ONLY = WebhookAuth(bearer_token=SecretStr("t0ken"))
BASIC_ONLY = WebhookAuth(basic=BasicCredentials("am", SecretStr("pw:with:colons")))


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


@pytest.mark.parametrize(
    ("auth", "header", "allowed"),
    [
        (BEARER_ONLY, "Bearer t0ken", True),
        (BEARER_ONLY, "bearer t0ken", True),  # schemes are case-insensitive (RFC 9110)
        (BEARER_ONLY, "Bearer  t0ken ", True),
        (BEARER_ONLY, "Bearer t0ken2", False),
        (BEARER_ONLY, "Bearer t0ke", False),
        (BEARER_ONLY, None, False),
        (BEARER_ONLY, "", False),
        (BEARER_ONLY, _basic("am", "pw:with:colons"), False),  # basic not configured
        (BASIC_ONLY, _basic("am", "pw:with:colons"), True),
        (BASIC_ONLY, _basic("am", "pw"), False),
        (BASIC_ONLY, _basic("AM", "pw:with:colons"), False),
        (BASIC_ONLY, "Basic " + base64.b64encode(b"no-colon").decode(), False),
        (BASIC_ONLY, "Basic %%%", False),
        (BASIC_ONLY, "Basic " + base64.b64encode(b"\xff\xfe:x").decode(), False),
        (BASIC_ONLY, "Bearer t0ken", False),  # bearer not configured
        (WebhookAuth(anonymous=True), None, True),
    ],
)
def test_authorization_headers_are_checked_against_the_configured_schemes(
    auth: WebhookAuth, header: str | None, allowed: bool
) -> None:
    assert is_authorized(header, auth) is allowed


def test_auth_without_any_scheme_must_be_explicitly_anonymous() -> None:
    with pytest.raises(ValueError, match="needs a bearer token or basic credentials"):
        WebhookAuth()


def test_an_empty_bearer_token_is_refused_at_configuration() -> None:
    with pytest.raises(ValueError, match="empty"):
        WebhookAuth(bearer_token=SecretStr(""))


@pytest.mark.parametrize(
    ("auth", "header"),
    [
        (BEARER_ONLY, "Bearer t0ken"),
        (BASIC_ONLY, _basic("am", "pw:with:colons")),
        (WebhookAuth(anonymous=True), None),
    ],
)
def test_a_client_sends_the_header_the_receiver_accepts(
    auth: WebhookAuth, header: str | None
) -> None:
    assert auth.authorization_header() == header
    assert is_authorized(auth.authorization_header(), auth)
