"""Who may post to the webhook receiver: a bearer token, basic auth, or either (constant time)."""

from __future__ import annotations

import base64
import binascii
import hmac
from dataclasses import dataclass

from pydantic import SecretStr


@dataclass(frozen=True)
class BasicCredentials:
    """A user name and password for HTTP basic auth."""

    username: str
    password: SecretStr


@dataclass(frozen=True)
class WebhookAuth:
    """The credentials a webhook request must carry; either configured scheme is accepted.

    Attributes:
        bearer_token: Accept ``Authorization: Bearer <token>``.
        basic: Accept ``Authorization: Basic ...`` with these credentials.
        anonymous: Accept requests without credentials (local demos only); must be said
            explicitly, so a missing token never opens the receiver by accident.
    """

    bearer_token: SecretStr | None = None
    basic: BasicCredentials | None = None
    anonymous: bool = False

    def __post_init__(self) -> None:
        if self.bearer_token is None and self.basic is None and not self.anonymous:
            raise ValueError(
                "webhook auth needs a bearer token or basic credentials (or anonymous=True)"
            )
        if self.bearer_token is not None and not self.bearer_token.get_secret_value():
            raise ValueError("webhook bearer token is empty")

    @property
    def challenge(self) -> str:
        """The ``WWW-Authenticate`` header value of a 401: one challenge per accepted scheme."""
        schemes = []
        if self.bearer_token is not None:
            schemes.append('Bearer realm="runbooks"')
        if self.basic is not None:
            schemes.append('Basic realm="runbooks", charset="UTF-8"')
        return ", ".join(schemes)

    def authorization_header(self) -> str | None:
        """The ``Authorization`` header a client sends with these credentials (bearer first)."""
        if self.bearer_token is not None:
            return f"Bearer {self.bearer_token.get_secret_value()}"
        if self.basic is not None:
            pair = f"{self.basic.username}:{self.basic.password.get_secret_value()}"
            return f"Basic {base64.b64encode(pair.encode()).decode()}"
        return None


def is_authorized(header: str | None, auth: WebhookAuth) -> bool:
    """Decide whether an ``Authorization`` header satisfies `auth`.

    Secrets are compared with `hmac.compare_digest`, so the time taken does not tell an
    attacker how much of a guess was right.
    """
    if auth.anonymous:
        return True
    if not header:
        return False
    scheme, _, credentials = header.strip().partition(" ")
    scheme = scheme.lower()
    credentials = credentials.strip()
    if scheme == "bearer" and auth.bearer_token is not None:
        return _same(credentials, auth.bearer_token.get_secret_value())
    if scheme == "basic" and auth.basic is not None:
        return _basic_matches(credentials, auth.basic)
    return False


def _basic_matches(credentials: str, expected: BasicCredentials) -> bool:
    try:
        decoded = base64.b64decode(credentials, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return False
    username, colon, password = decoded.partition(":")
    if not colon:
        return False
    # Both halves are always compared: stopping at a wrong user name would leak that it was wrong.
    user_ok = _same(username, expected.username)
    password_ok = _same(password, expected.password.get_secret_value())
    return user_ok & password_ok


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())
