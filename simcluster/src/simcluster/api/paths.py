"""Resolve a Kubernetes API URL path to the resource, namespace, name and subresource it names."""

from __future__ import annotations

from dataclasses import dataclass

from simcluster import resources
from simcluster.errors import NotFoundError
from simcluster.resources import ResourceType

# Subresources of a Namespace, which share a URL shape with a namespaced collection.
_NAMESPACE_SUBRESOURCES = frozenset({"status", "finalize"})


@dataclass(frozen=True)
class ResourcePath:
    """What an API path addresses.

    Attributes:
        resource: The served resource type.
        namespace: The namespace from the URL; None for cluster-scoped or all-namespace paths.
        name: The object's name; None for a collection.
        subresource: e.g. ``status``, ``log``, ``exec``; empty for the object itself.
    """

    resource: ResourceType
    namespace: str | None = None
    name: str | None = None
    subresource: str = ""

    @property
    def counted_resource(self) -> str:
        """``plural`` or ``plural/subresource``, as request counters and faults name it."""
        plural = self.resource.plural
        return f"{plural}/{self.subresource}" if self.subresource else plural


class PathNotFoundError(NotFoundError):
    """The path names nothing the simulated apiserver serves."""

    def __init__(self) -> None:
        super().__init__("the server could not find the requested resource", details={})


def resolve_path(path: str) -> ResourcePath:
    """Map ``/api/v1/...`` or ``/apis/{group}/{version}/...`` to what it addresses.

    Raises:
        PathNotFoundError: the path is not a resource path the cluster serves.
    """
    parts = [p for p in path.split("/") if p]
    if len(parts) >= 2 and parts[0] == "api":
        group, version, rest = "", parts[1], parts[2:]
    elif len(parts) >= 3 and parts[0] == "apis":
        group, version, rest = parts[1], parts[2], parts[3:]
    else:
        raise PathNotFoundError()
    if not rest:
        raise PathNotFoundError()
    target = _resolve_rest(group, rest)
    if target.resource.version != version:
        raise PathNotFoundError()
    return target


def _resolve_rest(group: str, rest: list[str]) -> ResourcePath:
    if rest[0] == "namespaces" and len(rest) >= 3:
        if group == "" and len(rest) == 3 and rest[2] in _NAMESPACE_SUBRESOURCES:
            return _addressed(resources.NAMESPACES, None, rest[1], rest[2])
        rt = _served(group, rest[2])
        if not rt.namespaced:
            raise PathNotFoundError()
        return _addressed(rt, rest[1], *rest[3:])
    rt = _served(group, rest[0])
    if rt.namespaced and len(rest) > 1:
        raise PathNotFoundError()
    return _addressed(rt, None, *rest[1:])


def _served(group: str, plural: str) -> ResourceType:
    rt = resources.find_resource(group, plural)
    if rt is None:
        raise PathNotFoundError()
    return rt


def _addressed(rt: ResourceType, namespace: str | None, *tail: str) -> ResourcePath:
    if len(tail) > 2:
        raise PathNotFoundError()
    name = tail[0] if tail else None
    subresource = tail[1] if len(tail) == 2 else ""
    if subresource and subresource not in rt.subresources:
        raise PathNotFoundError()
    return ResourcePath(rt, namespace, name, subresource)
