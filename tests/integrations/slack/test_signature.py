"""Slack's request signature: the captured callback verifies; anything else is refused."""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path
from typing import Any

import pytest

from integrations.slack import InvalidSignatureError, verify_signature

CAPTURED: dict[str, Any] = json.loads(
    (Path(__file__).with_name("fixtures") / "slack_block_actions_signed_request.json").read_text()
)
SECRET = str(CAPTURED["signing_secret"])
BODY = str(CAPTURED["body"]).encode()
TIMESTAMP = str(CAPTURED["headers"]["X-Slack-Request-Timestamp"])
SIGNATURE = str(CAPTURED["headers"]["X-Slack-Signature"])


def at(seconds: float) -> Any:
    """A clock stopped ``seconds`` after the captured request was sent."""
    return lambda: int(TIMESTAMP) + seconds


def sign(body: bytes, timestamp: str, secret: str = SECRET) -> str:
    """Slack's v0 signature, computed independently of slack_sdk."""
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def test_the_captured_callback_verifies_with_its_signing_secret() -> None:
    verify_signature(
        BODY, timestamp=TIMESTAMP, signature=SIGNATURE, signing_secret=SECRET, now=at(3)
    )


def test_the_signature_is_hmac_sha256_of_version_timestamp_and_body() -> None:
    assert sign(BODY, TIMESTAMP) == SIGNATURE


@pytest.mark.parametrize(
    ("body", "timestamp", "signature", "secret", "why"),
    [
        (BODY + b"x", TIMESTAMP, SIGNATURE, SECRET, "does not match"),
        (BODY, str(int(TIMESTAMP) + 1), SIGNATURE, SECRET, "does not match"),
        (BODY, TIMESTAMP, SIGNATURE, "another-secret", "does not match"),
        (BODY, TIMESTAMP, "v0=" + "0" * 64, SECRET, "does not match"),
        (BODY, None, SIGNATURE, SECRET, "missing"),
        (BODY, TIMESTAMP, None, SECRET, "missing"),
        (BODY, "yesterday", SIGNATURE, SECRET, "not seconds since the epoch"),
    ],
    ids=["body", "timestamp", "secret", "signature", "no-timestamp", "no-signature", "not-a-time"],
)
def test_a_callback_changed_in_any_part_is_refused(
    body: bytes, timestamp: str | None, signature: str | None, secret: str, why: str
) -> None:
    with pytest.raises(InvalidSignatureError, match=why):
        verify_signature(
            body, timestamp=timestamp, signature=signature, signing_secret=secret, now=at(3)
        )


@pytest.mark.parametrize("delay", [301, -301, 86400])
def test_a_validly_signed_callback_older_or_newer_than_five_minutes_is_a_replay(
    delay: int,
) -> None:
    with pytest.raises(InvalidSignatureError, match="5 minutes"):
        verify_signature(
            BODY, timestamp=TIMESTAMP, signature=SIGNATURE, signing_secret=SECRET, now=at(delay)
        )


def test_a_callback_signed_just_now_by_us_verifies() -> None:
    body, timestamp = b"payload=%7B%7D", "1800000000"
    verify_signature(
        body,
        timestamp=timestamp,
        signature=sign(body, timestamp),
        signing_secret=SECRET,
        now=lambda: 1800000010.0,
    )


@pytest.mark.parametrize(
    ("body", "timestamp", "signature", "why"),
    [
        (b"payload=\xff\xfe", TIMESTAMP, None, "body: not form-encoded text"),
        (BODY, "²", SIGNATURE, "not seconds since the epoch"),
        (BODY, "-1", SIGNATURE, "not seconds since the epoch"),
        (BODY, "1" * 40, SIGNATURE, "not seconds since the epoch"),
        (BODY, TIMESTAMP, "v0=" + "é" * 64, "not v0= and 64 hex digits"),
        (BODY, TIMESTAMP, "v1=" + "0" * 64, "not v0= and 64 hex digits"),
    ],
    ids=["non-utf8-body", "superscript-digit", "negative", "huge", "non-ascii-sig", "v1"],
)
def test_input_no_slack_request_carries_is_refused_not_raised(
    body: bytes, timestamp: str, signature: str | None, why: str
) -> None:
    signed = signature or sign(body, timestamp)

    with pytest.raises(InvalidSignatureError, match=why):
        verify_signature(
            body, timestamp=timestamp, signature=signed, signing_secret=SECRET, now=at(3)
        )
