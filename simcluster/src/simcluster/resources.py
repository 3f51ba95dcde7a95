"""The resource types the simulated cluster serves, and how each is addressed over the API."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import KW_ONLY, dataclass

# What a stored resource serves; discovery lists them and other verbs are refused with a 405.
STORED_VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")


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
        verbs: The verbs served on the resource itself; a review serves only ``create``.
        categories: Discovery categories, e.g. ``all`` for what ``kubectl get all`` lists.
        custom: Served as a CustomResourceDefinition's kind would be (no strategic merge
            patch, an open schema).
    """

    group: str
    version: str
    plural: str
    kind: str
    namespaced: bool
    short_names: tuple[str, ...] = ()
    subresources: tuple[str, ...] = ("status",)
    field_selectors: tuple[str, ...] = ()
    _: KW_ONLY
    verbs: tuple[str, ...] = STORED_VERBS
    categories: tuple[str, ...] = ()
    custom: bool = False

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


_ALL = ("all",)

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
    categories=_ALL,
)
SERVICES = ResourceType(
    "", "v1", "services", "Service", True, ("svc",), ("status",), categories=_ALL
)
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
SECRETS = ResourceType("", "v1", "secrets", "Secret", True, (), (), ("type",))
SERVICEACCOUNTS = ResourceType("", "v1", "serviceaccounts", "ServiceAccount", True, ("sa",), ())
PERSISTENTVOLUMECLAIMS = ResourceType(
    "", "v1", "persistentvolumeclaims", "PersistentVolumeClaim", True, ("pvc",), ("status",)
)
DAEMONSETS = ResourceType("apps", "v1", "daemonsets", "DaemonSet", True, ("ds",), categories=_ALL)
# ``scale``: what ``kubectl scale`` reads and patches (served by `simcluster.api.scale`).
_SCALABLE = ("status", "scale")
DEPLOYMENTS = ResourceType(
    "apps", "v1", "deployments", "Deployment", True, ("deploy",), _SCALABLE, categories=_ALL
)
REPLICASETS = ResourceType(
    "apps", "v1", "replicasets", "ReplicaSet", True, ("rs",), _SCALABLE, categories=_ALL
)
STATEFULSETS = ResourceType(
    "apps", "v1", "statefulsets", "StatefulSet", True, ("sts",), _SCALABLE, categories=_ALL
)
CONTROLLERREVISIONS = ResourceType(
    "apps", "v1", "controllerrevisions", "ControllerRevision", True, (), ()
)
ENDPOINTSLICES = ResourceType(
    "discovery.k8s.io", "v1", "endpointslices", "EndpointSlice", True, (), ()
)
PODDISRUPTIONBUDGETS = ResourceType(
    "policy", "v1", "poddisruptionbudgets", "PodDisruptionBudget", True, ("pdb",)
)
NETWORKPOLICIES = ResourceType(
    "networking.k8s.io", "v1", "networkpolicies", "NetworkPolicy", True, ("netpol",), ()
)
INGRESSES = ResourceType("networking.k8s.io", "v1", "ingresses", "Ingress", True, ("ing",))

_RBAC = "rbac.authorization.k8s.io"
ROLES = ResourceType(_RBAC, "v1", "roles", "Role", True, (), ())
CLUSTERROLES = ResourceType(_RBAC, "v1", "clusterroles", "ClusterRole", False, (), ())
ROLEBINDINGS = ResourceType(_RBAC, "v1", "rolebindings", "RoleBinding", True, (), ())
CLUSTERROLEBINDINGS = ResourceType(
    _RBAC, "v1", "clusterrolebindings", "ClusterRoleBinding", False, (), ()
)

# Not stored: a review is answered and forgotten.
SELF_SUBJECT_REVIEWS = ResourceType(
    "authentication.k8s.io",
    "v1",
    "selfsubjectreviews",
    "SelfSubjectReview",
    False,
    (),
    (),
    verbs=("create",),
)
SELF_SUBJECT_ACCESS_REVIEWS = ResourceType(
    "authorization.k8s.io",
    "v1",
    "selfsubjectaccessreviews",
    "SelfSubjectAccessReview",
    False,
    (),
    (),
    verbs=("create",),
)

# prometheus-operator's CRDs: the cluster the engine's overlays target runs it (they ship a
# ServiceMonitor and PrometheusRules), so their kinds are served as if its CRDs were installed.
_MONITORING = "monitoring.coreos.com"
_OPERATOR = ("prometheus-operator",)
SERVICEMONITORS = ResourceType(
    _MONITORING,
    "v1",
    "servicemonitors",
    "ServiceMonitor",
    True,
    ("smon",),
    (),
    categories=_OPERATOR,
    custom=True,
)
PROMETHEUSRULES = ResourceType(
    _MONITORING,
    "v1",
    "prometheusrules",
    "PrometheusRule",
    True,
    ("promrule",),
    (),
    categories=_OPERATOR,
    custom=True,
)
ALERTMANAGERCONFIGS = ResourceType(
    _MONITORING,
    "v1alpha1",
    "alertmanagerconfigs",
    "AlertmanagerConfig",
    True,
    ("amcfg",),
    (),
    categories=_OPERATOR,
    custom=True,
)

ALL: tuple[ResourceType, ...] = (
    NAMESPACES,
    NODES,
    PODS,
    SERVICES,
    ENDPOINTS,
    EVENTS,
    CONFIGMAPS,
    SECRETS,
    SERVICEACCOUNTS,
    PERSISTENTVOLUMECLAIMS,
    DAEMONSETS,
    DEPLOYMENTS,
    REPLICASETS,
    STATEFULSETS,
    CONTROLLERREVISIONS,
    ENDPOINTSLICES,
    PODDISRUPTIONBUDGETS,
    NETWORKPOLICIES,
    INGRESSES,
    ROLES,
    CLUSTERROLES,
    ROLEBINDINGS,
    CLUSTERROLEBINDINGS,
    SELF_SUBJECT_REVIEWS,
    SELF_SUBJECT_ACCESS_REVIEWS,
    SERVICEMONITORS,
    PROMETHEUSRULES,
    ALERTMANAGERCONFIGS,
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
