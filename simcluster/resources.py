"""The resource types the simulated cluster serves, and how each is addressed over the API."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class ResourceType:
    """One served resource type (a Kubernetes 'resource' in API discovery terms).

    Attributes:
        group: API group; empty for the core group.
        version: API version within the group.
        plural: The resource name used in URLs, e.g. ``pods``.
        kind: The object kind, e.g. ``Pod``.
        namespaced: Whether objects live in a namespace.
        short_names: kubectl short names advertised in discovery.
        subresources: Subresources served under an object, e.g. ``("status", "log")``.
        field_selectors: Field paths (beyond metadata.name/namespace) that list may filter on.
    """

    group: str
    version: str
    plural: str
    kind: str
    namespaced: bool
    short_names: tuple[str, ...] = ()
    subresources: tuple[str, ...] = ("status",)
    field_selectors: tuple[str, ...] = ()

    @property
    def api_version(self) -> str:
        """The ``apiVersion`` written into objects, e.g. ``apps/v1`` or ``v1``."""
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def list_kind(self) -> str:
        """The kind of a list response, e.g. ``PodList``."""
        return f"{self.kind}List"

    @property
    def singular(self) -> str:
        """The lower-case singular name advertised in discovery."""
        return self.kind.lower()

    @property
    def key(self) -> str:
        """A stable identifier, ``plural.group`` (``pods`` for the core group)."""
        return f"{self.plural}.{self.group}" if self.group else self.plural


NAMESPACES = ResourceType("", "v1", "namespaces", "Namespace", False, ("ns",), ("status",))
NODES = ResourceType("", "v1", "nodes", "Node", False, ("no",), ("status",))
PODS = ResourceType(
    "",
    "v1",
    "pods",
    "Pod",
    True,
    ("po",),
    ("status", "log", "exec"),
    ("spec.nodeName", "status.phase"),
)
SERVICES = ResourceType("", "v1", "services", "Service", True, ("svc",), ("status",))
ENDPOINTS = ResourceType("", "v1", "endpoints", "Endpoints", True, ("ep",), ())
EVENTS = ResourceType(
    "",
    "v1",
    "events",
    "Event",
    True,
    ("ev",),
    (),
    ("involvedObject.name", "involvedObject.kind", "involvedObject.uid", "reason", "type"),
)
CONFIGMAPS = ResourceType("", "v1", "configmaps", "ConfigMap", True, ("cm",), ())
DAEMONSETS = ResourceType("apps", "v1", "daemonsets", "DaemonSet", True, ("ds",))
DEPLOYMENTS = ResourceType("apps", "v1", "deployments", "Deployment", True, ("deploy",))
REPLICASETS = ResourceType("apps", "v1", "replicasets", "ReplicaSet", True, ("rs",))
CONTROLLERREVISIONS = ResourceType(
    "apps", "v1", "controllerrevisions", "ControllerRevision", True, (), ()
)
ENDPOINTSLICES = ResourceType(
    "discovery.k8s.io", "v1", "endpointslices", "EndpointSlice", True, (), ()
)

ALL: tuple[ResourceType, ...] = (
    NAMESPACES,
    NODES,
    PODS,
    SERVICES,
    ENDPOINTS,
    EVENTS,
    CONFIGMAPS,
    DAEMONSETS,
    DEPLOYMENTS,
    REPLICASETS,
    CONTROLLERREVISIONS,
    ENDPOINTSLICES,
)

_BY_GROUP_PLURAL = {(rt.group, rt.plural): rt for rt in ALL}
_BY_KIND = {rt.kind: rt for rt in ALL}


def find_resource(group: str, plural: str) -> ResourceType | None:
    """Return the served type for an API group and plural name, or None if not served."""
    return _BY_GROUP_PLURAL.get((group, plural))


def resource_for_kind(kind: str) -> ResourceType:
    """Return the served type for an object kind.

    Raises:
        KeyError: the kind is not served by the simulated cluster.
    """
    return _BY_KIND[kind]


def group_versions() -> Iterator[tuple[str, str]]:
    """Yield each distinct (group, version) served, core group first."""
    seen: set[tuple[str, str]] = set()
    for rt in ALL:
        gv = (rt.group, rt.version)
        if gv not in seen:
            seen.add(gv)
            yield gv
