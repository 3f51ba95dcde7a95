"""Decoding a webhook request body into a notification, or an error that names the bad field."""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

import orjson
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from integrations.alertmanager.webhook import WebhookNotification

_SAMPLE_FIX = (
    "send an Alertmanager webhook payload, version 4 "
    "(https://prometheus.io/docs/alerting/latest/configuration/#webhook_config)"
)


class PayloadProblem(StrEnum):
    """Why a body is refused; few values, fit for metric labels."""

    MALFORMED_JSON = "malformed_json"
    INVALID_PAYLOAD = "invalid_payload"


class PayloadError(Exception):
    """A body that is not a version 4 webhook notification.

    Attributes:
        problem: The kind of problem (malformed JSON or a payload that does not fit the schema).
        message: What is wrong, in one line.
        field: Where, e.g. ``alerts[0].labels``; None when the whole body is at fault.
        fix: What the sender should do instead.
        group_key: The payload's ``groupKey`` when it could be read, to log a group once.
    """

    def __init__(
        self,
        problem: PayloadProblem,
        message: str,
        *,
        field: str | None,
        fix: str,
        group_key: str | None = None,
    ) -> None:
        super().__init__(message)
        self.problem = problem
        self.message = message
        self.field = field
        self.fix = fix
        self.group_key = group_key


def decode_notification(body: bytes) -> WebhookNotification:
    """Parse and validate a webhook body.

    Unknown fields are ignored; wrong types and missing required fields are refused.

    Raises:
        PayloadError: The body is not JSON, or not a version 4 notification; the first
            offending field is named.
    """
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise PayloadError(
            PayloadProblem.MALFORMED_JSON,
            f"body is not valid JSON: {error}",
            field=None,
            fix="send a JSON object with Content-Type: application/json",
        ) from None
    if not isinstance(document, dict):
        raise PayloadError(
            PayloadProblem.INVALID_PAYLOAD,
            f"body is a JSON {type(document).__name__}, not an object",
            field=None,
            fix=_SAMPLE_FIX,
        )
    group_key = document.get("groupKey")
    try:
        return WebhookNotification.model_validate(document)
    except ValidationError as error:
        first = error.errors(include_url=False)[0]
        raise PayloadError(
            PayloadProblem.INVALID_PAYLOAD,
            f"{format_location(first['loc']) or '(body)'}: {first['msg']}",
            field=format_location(first["loc"]) or None,
            fix=suggest_fix(first),
            group_key=group_key if isinstance(group_key, str) else None,
        ) from None


def format_location(loc: Sequence[int | str]) -> str:
    """Render a pydantic error location as a path, e.g. ``alerts[0].labels``."""
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else part
    return path


def suggest_fix(error: ErrorDetails) -> str:
    """Say how to correct one validation error (missing field, wrong type, bad value)."""
    field = format_location(error["loc"]) or "the body"
    kind = error["type"]
    if kind == "missing":
        return f"add {field}; {_SAMPLE_FIX}"
    if kind == "dict_type":
        return f"send {field} as a JSON object of strings"
    if kind == "list_type":
        return f"send {field} as a JSON array"
    if kind == "string_type":
        return f"send {field} as a JSON string"
    if kind in {"int_type", "int_parsing", "greater_than_equal"}:
        return f"send {field} as a non-negative integer"
    if kind.startswith("datetime") or kind == "timezone_aware":
        return f"send {field} as an RFC 3339 timestamp with a zone, e.g. 2026-01-02T15:04:05Z"
    if kind == "literal_error":
        return f"send {field} as {error['ctx']['expected'] if 'ctx' in error else 'documented'}"
    return f"correct {field} ({error['msg']}); {_SAMPLE_FIX}"
