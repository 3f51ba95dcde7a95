"""Decide the Kubernetes verb of an API request, as authorization and audit name it."""

from __future__ import annotations

from simcluster.api.paths import ResourcePath
from simcluster.errors import MethodNotAllowedError

# Subresources that take a connection rather than an object; any method means "create".
_CONNECT_SUBRESOURCES = frozenset({"exec", "attach", "portforward"})
_READ_ONLY_SUBRESOURCES = frozenset({"log"})


def is_watch(query_value: str | None) -> bool:
    """Tell whether a ``watch`` query parameter asks for a watch (``true`` or ``1``)."""
    return query_value is not None and query_value.lower() in ("true", "1")


def request_verb(method: str, target: ResourcePath, *, watch: bool = False) -> str:
    """Return the Kubernetes verb for an HTTP method on a resource path.

    Args:
        method: The HTTP method.
        target: The resolved path.
        watch: Whether the query asked for a watch.

    Raises:
        MethodNotAllowedError: the method is not served on that path.
    """
    verb = _verb(method.upper(), target, watch=watch)
    if not target.subresource and verb not in target.resource.verbs:
        raise _not_allowed(method)
    return verb


def _verb(method: str, target: ResourcePath, *, watch: bool) -> str:
    if target.subresource in _CONNECT_SUBRESOURCES and method in ("GET", "POST"):
        return "create"
    if target.subresource in _READ_ONLY_SUBRESOURCES:
        if method == "GET":
            return "get"
        raise _not_allowed(method)
    if target.name is None:
        collection_verbs = {"GET": "watch" if watch else "list", "POST": "create"}
        if method in collection_verbs:
            return collection_verbs[method]
        if method == "DELETE" and not target.subresource:
            return "deletecollection"
        raise _not_allowed(method)
    object_verbs = {"GET": "watch" if watch else "get", "PUT": "update", "PATCH": "patch"}
    if method in object_verbs:
        return object_verbs[method]
    if method == "DELETE" and not target.subresource:
        return "delete"
    raise _not_allowed(method)


def _not_allowed(method: str) -> MethodNotAllowedError:
    return MethodNotAllowedError(
        f"the server does not allow this method on the requested resource ({method})"
    )
