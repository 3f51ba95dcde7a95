"""Checking that an interaction callback comes from Slack: Slack's v0 request signature."""

from __future__ import annotations

import re
import time
from collections.abc import Callable

from slack_sdk.signature import Clock, SignatureVerifier

_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")


class InvalidSignatureError(Exception):
    """The request is not signed by Slack with our signing secret (or is too old)."""


class _Clock(Clock):
    def __init__(self, now: Callable[[], float]) -> None:
        self._now = now

    def now(self) -> float:
        return self._now()


def verify_signature(
    body: bytes,
    *,
    timestamp: str | None,
    signature: str | None,
    signing_secret: str,
    now: Callable[[], float] = time.time,
) -> None:
    """Check ``X-Slack-Signature`` over the raw body, as Slack documents it.

    The signature is ``v0=`` HMAC-SHA256 of ``v0:<timestamp>:<body>`` with the signing secret,
    compared in constant time; a timestamp more than five minutes away is refused (replays).

    Raises:
        InvalidSignatureError: a header is missing, the timestamp is stale, or it does not match.
    """
    if not timestamp or not signature:
        raise InvalidSignatureError("missing X-Slack-Request-Timestamp or X-Slack-Signature")
    # Checked before Slack's verifier sees them: it decodes the body as UTF-8 and compares
    # digests as str, and both raise (not refuse) on input no Slack request carries.
    if not _TIMESTAMP.fullmatch(timestamp):
        raise InvalidSignatureError("X-Slack-Request-Timestamp: not seconds since the epoch")
    if not _SIGNATURE.fullmatch(signature):
        raise InvalidSignatureError("X-Slack-Signature: not v0= and 64 hex digits")
    if not body.isascii():
        raise InvalidSignatureError("body: not form-encoded text (Slack sends ASCII)")
    if abs(now() - int(timestamp)) > 60 * 5:
        raise InvalidSignatureError("X-Slack-Request-Timestamp is more than 5 minutes away")
    verifier = SignatureVerifier(signing_secret, clock=_Clock(now))
    if not verifier.is_valid(body=body, timestamp=timestamp, signature=signature):
        raise InvalidSignatureError("X-Slack-Signature does not match the signing secret")
