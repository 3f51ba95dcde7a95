"""Errors of the simulated apiserver, each mapping to a Kubernetes `Status` response."""

from __future__ import annotations

from typing import Any

from simcluster.resources import ResourceType


class ApiError(Exception):
    """An error the API answers with a `Status` object.

    Attributes:
        code: HTTP status code.
        reason: Kubernetes `StatusReason`, e.g. ``NotFound``.
        message: Human message in the apiserver's own wording.
        details: The `StatusDetails` (name, group, kind, retryAfterSeconds, causes).
    """

    code = 500
    reason = "InternalError"

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}

    def to_status(self) -> dict[str, Any]:
        """Render the Kubernetes `Status` object for this error."""
        status: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        }
        if self.details:
            status["details"] = self.details
        return status


def _details(rt: ResourceType, name: str | None) -> dict[str, Any]:
    details: dict[str, Any] = {"group": rt.group, "kind": rt.plural}
    if name:
        details["name"] = name
    return details


def _qualified(rt: ResourceType) -> str:
    return f"{rt.plural}.{rt.group}" if rt.group else rt.plural


class BadRequestError(ApiError):
    """400: the request is malformed (bad selector, undecodable body)."""

    code = 400
    reason = "BadRequest"


class NotFoundError(ApiError):
    """404: the object (or its namespace) does not exist."""

    code = 404
    reason = "NotFound"

    @classmethod
    def of(cls, rt: ResourceType, name: str) -> NotFoundError:
        """The apiserver's error for a missing object, e.g. ``pods "web-1" not found``."""
        return cls(f'{_qualified(rt)} "{name}" not found', details=_details(rt, name))


class MethodNotAllowedError(ApiError):
    """405: the verb is not supported on this path."""

    code = 405
    reason = "MethodNotAllowed"


class AlreadyExistsError(ApiError):
    """409: create of a name that is taken."""

    code = 409
    reason = "AlreadyExists"

    @classmethod
    def of(cls, rt: ResourceType, name: str) -> AlreadyExistsError:
        """The apiserver's error for a duplicate name."""
        return cls(f'{_qualified(rt)} "{name}" already exists', details=_details(rt, name))


class ConflictError(ApiError):
    """409: a write based on a stale resourceVersion or failed precondition."""

    code = 409
    reason = "Conflict"

    @classmethod
    def stale(cls, rt: ResourceType, name: str) -> ConflictError:
        """The apiserver's optimistic-concurrency error."""
        return cls(
            f'Operation cannot be fulfilled on {_qualified(rt)} "{name}": the object has been '
            "modified; please apply your changes to the latest version and try again",
            details=_details(rt, name),
        )


class GoneError(ApiError):
    """410: a watch asked for a resourceVersion older than the retained history."""

    code = 410
    reason = "Expired"


class InvalidError(ApiError):
    """422: the object fails validation; `causes` name each bad field."""

    code = 422
    reason = "Invalid"

    @classmethod
    def of(cls, rt: ResourceType, name: str, causes: list[tuple[str, str, str]]) -> InvalidError:
        """Build the apiserver's validation error.

        Args:
            rt: The resource type.
            name: The object's name.
            causes: (field path, cause reason e.g. ``FieldValueInvalid``, message) triples.
        """
        summary = ", ".join(f"{field}: {message}" for field, _, message in causes)
        details = _details(rt, name) | {"kind": rt.kind}
        details["causes"] = [
            {"reason": reason, "message": message, "field": field}
            for field, reason, message in causes
        ]
        kind = f"{rt.kind}.{rt.group}" if rt.group else rt.kind
        return cls(f'{kind} "{name}" is invalid: {summary}', details=details)


class TooManyRequestsError(ApiError):
    """429: injected throttling; tells the client when to retry."""

    code = 429
    reason = "TooManyRequests"

    def __init__(self, message: str, *, retry_after_seconds: int = 1) -> None:
        super().__init__(message, details={"retryAfterSeconds": retry_after_seconds})
        self.retry_after_seconds = retry_after_seconds


class InternalError(ApiError):
    """500: an injected or real server-side failure."""

    code = 500
    reason = "InternalError"


class UnauthorizedError(ApiError):
    """401: no or unknown bearer token."""

    code = 401
    reason = "Unauthorized"


class ForbiddenError(ApiError):
    """403: RBAC refused the request; the message names user, verb, resource and scope."""

    code = 403
    reason = "Forbidden"


class UnsupportedMediaTypeError(ApiError):
    """415: the request body's Content-Type is not one the endpoint accepts (e.g. a PATCH type)."""

    code = 415
    reason = "UnsupportedMediaType"
