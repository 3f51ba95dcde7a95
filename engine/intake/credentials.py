"""The webhook credentials the engine accepts, from settings or a token generated on first start."""

from __future__ import annotations

import os
import secrets

from pydantic import SecretStr

from engine.intake.auth import BasicCredentials, WebhookAuth
from engine.settings import EngineSettings


class CredentialsError(ValueError):
    """The webhook credentials in the settings are incomplete."""


def webhook_auth(settings: EngineSettings, *, generate: bool = False) -> WebhookAuth:
    """Build the webhook credentials.

    A configured token or basic-auth pair wins. Otherwise the token kept in the state directory
    is used, generated there when ``generate`` is set (first start), so Alertmanager configs and
    ``runbooks fire`` on the same machine agree without anyone copying secrets around.

    Raises:
        CredentialsError: basic auth is half configured, or no token exists and none may be
            generated.
    """
    basic = None
    if settings.webhook_basic_user or settings.webhook_basic_password:
        if not (settings.webhook_basic_user and settings.webhook_basic_password):
            raise CredentialsError(
                "RUNBOOKS_WEBHOOK_BASIC_USER and RUNBOOKS_WEBHOOK_BASIC_PASSWORD go together: "
                "set both, or neither"
            )
        basic = BasicCredentials(settings.webhook_basic_user, settings.webhook_basic_password)
    token = settings.webhook_token
    if token is None and basic is None:
        token = _stored_token(settings, generate=generate)
    return WebhookAuth(bearer_token=token, basic=basic)


def _stored_token(settings: EngineSettings, *, generate: bool) -> SecretStr:
    path = settings.webhook_token_file
    if path.exists():
        return SecretStr(path.read_text().strip())
    if not generate:
        raise CredentialsError(
            f"no webhook token: set RUNBOOKS_WEBHOOK_TOKEN, or start the engine once "
            f"(`runbooks up`) so it generates {path}"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(32)
    # Written owner-only before the secret goes in, so it is never readable by others.
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(token + "\n")
    return SecretStr(token)
