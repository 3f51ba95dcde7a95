"""The adapter's own error types: what callers catch instead of the client's exceptions."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RbacRule:
    """The RBAC rule a refused request needed, as parsed from the API server's 403 message.

    Attributes:
        verb: The verb that was refused (``delete``, ``list``, ``create``...).
        resource: The resource's plural name (``pods``).
        subresource: The subresource (``exec``, ``log``), or None.
        api_group: The API group; ``""`` is the core group.
        namespace: The namespace, or None for a cluster-scoped request.
    """

    verb: str
    resource: str
    subresource: str | None
    api_group: str
    namespace: str | None

    @property
    def resource_path(self) -> str:
        """The resource as an RBAC rule names it (``pods/exec`` for a subresource)."""
        if self.subresource is None:
            return self.resource
        return f"{self.resource}/{self.subresource}"

    def describe(self) -> str:
        """Say, in one line, which rule to add to which role so the request is allowed."""
        rule = (
            f'verbs=[{self.verb}] apiGroups=["{self.api_group}"] resources=[{self.resource_path}]'
        )
        if self.namespace is None:
            return f"add rule {rule} at cluster scope to the engine's ClusterRole"
        return f"add rule {rule} in namespace {self.namespace} to the engine's Role"


class KubeError(Exception):
    """Any failure talking to the Kubernetes API.

    Attributes:
        status: The HTTP status, or None when no response arrived.
        reason: The Kubernetes ``Status.reason`` (``NotFound``, ``AlreadyExists``...) or the
            HTTP reason phrase.
        message: A human-readable message, usually the API server's own.
    """

    def __init__(self, message: str, *, status: int | None = None, reason: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.reason = reason


class TransientKubeError(KubeError):
    """A failure worth retrying: 429, most 5xx, timeouts, refused or reset connections.

    Attributes:
        retry_after: Seconds the server asked us to wait (429 ``Retry-After``), or None.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        reason: str = "",
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, status=status, reason=reason)
        self.retry_after = retry_after


class PermanentKubeError(KubeError):
    """A failure that the same request will hit again: fix the request, RBAC or cluster."""


class NotFound(PermanentKubeError):  # noqa: N818 - named after the Kubernetes Status reason
    """The object (or its namespace) does not exist (404)."""


class Conflict(PermanentKubeError):  # noqa: N818 - named after the Kubernetes Status reason
    """The object changed under us, or a delete/update precondition failed (409)."""


class AlreadyExists(Conflict):
    """Create refused because an object of that name exists (409 AlreadyExists)."""


class Invalid(PermanentKubeError):  # noqa: N818 - named after the Kubernetes Status reason
    """The API server rejected the object or patch as invalid (422)."""


class Unauthorized(PermanentKubeError):  # noqa: N818 - named after the Kubernetes Status reason
    """The credentials were not accepted (401)."""


class Forbidden(PermanentKubeError):  # noqa: N818 - named after the Kubernetes Status reason
    """RBAC (or an admission policy) refused the request (403).

    Attributes:
        rule: The RBAC rule that would allow the request, when the message names one.
        user: The user the API server saw, when the message names one.
    """

    def __init__(
        self,
        message: str,
        *,
        rule: RbacRule | None,
        user: str | None,
        status: int | None = 403,
        reason: str = "Forbidden",
    ) -> None:
        text = f"RBAC refused: {rule.describe()} ({message})" if rule is not None else message
        super().__init__(text, status=status, reason=reason)
        self.rule = rule
        self.user = user


class ConfigurationError(PermanentKubeError):
    """The connection settings do not lead to a usable cluster configuration."""
