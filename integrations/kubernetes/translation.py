"""Turning the client's exceptions into the adapter's own errors (pure parsing, no I/O)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import orjson
import pydantic
import urllib3.exceptions
from kubernetes.client.exceptions import ApiException

from integrations.kubernetes.errors import (
    AlreadyExists,
    Conflict,
    Forbidden,
    Invalid,
    KubeError,
    NotFound,
    PermanentKubeError,
    RbacRule,
    TransientKubeError,
    Unauthorized,
)

_RBAC_REFUSAL = re.compile(
    r'User "(?P<user>[^"]*)" cannot (?P<verb>\S+) resource "(?P<resource>[^"]+)"'
    r' in API group "(?P<group>[^"]*)"'
    r'(?: in the namespace "(?P<namespace>[^"]*)"| at the cluster scope)?'
)
_HANDSHAKE = re.compile(r"Handshake status (?P<status>\d{3})")
_HANDSHAKE_SEPARATOR = " -+-+- "
_RETRYABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
_PERMANENT_BY_STATUS: dict[int, type[PermanentKubeError]] = {
    401: Unauthorized,
    404: NotFound,
    422: Invalid,
}


@dataclass(frozen=True, slots=True)
class RbacRefusal:
    """Who was refused, and the rule that would have allowed the request."""

    user: str
    rule: RbacRule


@dataclass(frozen=True, slots=True)
class StatusBody:
    """The fields of a Kubernetes ``Status`` error body that decide the translation."""

    reason: str = ""
    message: str = ""
    retry_after_seconds: float | None = None


def parse_rbac_refusal(message: str) -> RbacRefusal | None:
    """Read the user and the missing RBAC rule out of an API server 403 message.

    Args:
        message: The ``Status.message``, e.g. ``pods "x" is forbidden: User "u" cannot delete
            resource "pods" in API group "" in the namespace "kube-system"``.

    Returns:
        The refusal, or None when the message is not in the RBAC authorizer's format.
    """
    match = _RBAC_REFUSAL.search(message)
    if match is None:
        return None
    resource, _, subresource = match["resource"].partition("/")
    rule = RbacRule(
        verb=match["verb"],
        resource=resource,
        subresource=subresource or None,
        api_group=match["group"],
        namespace=match["namespace"],
    )
    return RbacRefusal(user=match["user"], rule=rule)


def parse_retry_after(value: str | None, *, now: datetime) -> float | None:
    """Read a ``Retry-After`` header: delta-seconds or an HTTP date.

    Args:
        value: The header's value, or None when absent.
        now: The current time, to turn a date into a delay.

    Returns:
        Seconds to wait (never negative), or None when absent or unreadable.
    """
    if value is None or not value.strip():
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


def parse_status_body(body: str | bytes | None) -> StatusBody:
    """Read a Kubernetes ``Status`` JSON body; anything else gives an empty `StatusBody`."""
    if not body:
        return StatusBody()
    try:
        document: Any = orjson.loads(body)
    except orjson.JSONDecodeError:
        text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
        return StatusBody(message=text.strip())
    if not isinstance(document, dict):
        return StatusBody()
    details = document.get("details") or {}
    retry = details.get("retryAfterSeconds") if isinstance(details, dict) else None
    return StatusBody(
        reason=str(document.get("reason") or ""),
        message=str(document.get("message") or ""),
        retry_after_seconds=float(retry) if isinstance(retry, int | float) and retry > 0 else None,
    )


def _header(headers: Any, name: str) -> str | None:
    if not headers:
        return None
    for key, value in headers.items():
        if str(key).lower() == name.lower():
            return str(value)
    return None


def translate_response(
    status: int, *, body: str | bytes | None, retry_after_header: str | None, now: datetime
) -> KubeError:
    """Choose the adapter error for an HTTP error response.

    Args:
        status: The HTTP status code.
        body: The response body (a Kubernetes ``Status`` when the API server answered).
        retry_after_header: The ``Retry-After`` header, if any.
        now: The current time, for a ``Retry-After`` given as a date.
    """
    parsed = parse_status_body(body)
    message = parsed.message or f"HTTP {status}"
    reason = parsed.reason
    if status in _RETRYABLE_STATUSES:
        retry_after = parse_retry_after(retry_after_header, now=now)
        return TransientKubeError(
            message,
            status=status,
            reason=reason,
            retry_after=retry_after if retry_after is not None else parsed.retry_after_seconds,
        )
    if status == 403:
        refusal = parse_rbac_refusal(message)
        return Forbidden(
            message,
            rule=refusal.rule if refusal else None,
            user=refusal.user if refusal else None,
            reason=reason or "Forbidden",
        )
    if status == 409:
        kind = AlreadyExists if reason == "AlreadyExists" else Conflict
        return kind(message, status=status, reason=reason)
    kind_for_status = _PERMANENT_BY_STATUS.get(status, PermanentKubeError)
    return kind_for_status(message, status=status, reason=reason)


def translate_api_exception(error: ApiException, *, now: datetime) -> KubeError:
    """Translate the client's `ApiException` (HTTP errors, and status 0 for client-side ones).

    Status 0 comes from the client itself: a websocket handshake refused (exec), a TLS
    failure, or a connection that never opened.
    """
    status = int(error.status or 0)
    if status:
        return translate_response(
            status,
            body=error.body,
            retry_after_header=_header(error.headers, "Retry-After"),
            now=now,
        )
    text = str(error.reason or "")
    handshake = _HANDSHAKE.search(text)
    if handshake is not None:
        parts = text.split(_HANDSHAKE_SEPARATOR, 2)
        body = parts[-1] if len(parts) == 3 and parts[-1] != "None" else None
        return translate_response(
            int(handshake["status"]), body=body, retry_after_header=None, now=now
        )
    if "SSLError" in text or "Cannot prepare a request" in text:
        return PermanentKubeError(text)
    return TransientKubeError(text or "connection failed")


def translate_transport_error(error: urllib3.exceptions.HTTPError | OSError) -> KubeError:
    """Translate a urllib3 or socket failure: TLS and bad URLs are permanent, the rest transient."""
    cause: BaseException = error
    if isinstance(error, urllib3.exceptions.MaxRetryError) and error.reason is not None:
        cause = error.reason
    text = f"{type(cause).__name__}: {cause}"
    if isinstance(cause, urllib3.exceptions.SSLError | urllib3.exceptions.LocationParseError):
        return PermanentKubeError(text)
    return TransientKubeError(text, reason=type(cause).__name__)


ClientError = ApiException | urllib3.exceptions.HTTPError | OSError | pydantic.ValidationError
"""Everything the official client raises for a failed call."""

CLIENT_ERRORS = (ApiException, urllib3.exceptions.HTTPError, OSError, pydantic.ValidationError)
"""`ClientError` as a tuple, for ``except CLIENT_ERRORS as error:``."""


def translate_client_error(error: ClientError, *, now: datetime) -> KubeError:
    """Translate anything the client raises for a failed call into the adapter's own error."""
    if isinstance(error, ApiException):
        return translate_api_exception(error, now=now)
    if isinstance(error, pydantic.ValidationError):
        # The generated client validates arguments before sending anything.
        return Invalid(f"request rejected by the client before sending: {error}")
    return translate_transport_error(error)
