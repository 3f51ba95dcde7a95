"""RBAC rules, subjects and bindings parsed from objects, and how each matches a request."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

ALL = "*"


class RbacPolicyError(ValueError):
    """An RBAC object cannot be understood (missing name, roleRef, malformed rule or subject)."""


class _Request(Protocol):
    """The request attributes rule matching reads (structurally, `rbac.AccessRequest`)."""

    @property
    def verb(self) -> str: ...
    @property
    def api_group(self) -> str: ...
    @property
    def resource(self) -> str: ...
    @property
    def subresource(self) -> str: ...
    @property
    def name(self) -> str | None: ...
    @property
    def path(self) -> str | None: ...


@dataclass(frozen=True)
class PolicyRule:
    """One ``rules[]`` entry of a Role or ClusterRole.

    Attributes:
        verbs: Verbs granted; ``*`` grants all.
        api_groups: API groups; ``""`` is the core group, ``*`` all groups.
        resources: Resources, ``resource/subresource``, ``*/subresource`` or ``*``.
        resource_names: Object names the rule is limited to; empty means any name.
        non_resource_urls: URL paths for non-resource requests; a trailing ``*`` is a prefix match.
    """

    verbs: frozenset[str]
    api_groups: frozenset[str] = frozenset()
    resources: frozenset[str] = frozenset()
    resource_names: frozenset[str] = frozenset()
    non_resource_urls: frozenset[str] = frozenset()

    def allows(self, request: _Request) -> bool:
        """Whether this rule grants the request (as ``rbac.RuleAllows`` decides)."""
        if not (ALL in self.verbs or request.verb in self.verbs):
            return False
        if request.path is not None:
            return self._matches_url(request.path)
        return (
            (ALL in self.api_groups or request.api_group in self.api_groups)
            and self._matches_resource(request.resource, request.subresource)
            and self._matches_name(request.name)
        )

    def _matches_resource(self, resource: str, subresource: str) -> bool:
        combined = f"{resource}/{subresource}" if subresource else resource
        if ALL in self.resources or combined in self.resources:
            return True
        # `*/scale` grants that subresource of every resource, never the resources themselves.
        return bool(subresource) and f"*/{subresource}" in self.resources

    def _matches_name(self, name: str | None) -> bool:
        if not self.resource_names:
            return True
        # A request without a name (list, create) is not limited to the listed names.
        return name is not None and name in self.resource_names

    def _matches_url(self, path: str) -> bool:
        for url in self.non_resource_urls:
            if url in {ALL, path}:
                return True
            if url.endswith("*") and path.startswith(url[:-1]):
                return True
        return False


@dataclass(frozen=True)
class Subject:
    """One ``subjects[]`` entry of a binding: a User, Group or ServiceAccount."""

    kind: str
    name: str
    namespace: str = ""

    def applies_to(
        self, user: str, groups: tuple[str, ...], *, binding_namespace: str | None
    ) -> bool:
        """Whether this subject names the given user or one of its groups.

        A ServiceAccount subject without a namespace takes the RoleBinding's namespace; under a
        ClusterRoleBinding it matches nobody, as in Kubernetes.
        """
        if self.kind == "User":
            return user == self.name
        if self.kind == "Group":
            return self.name in groups
        if self.kind == "ServiceAccount":
            namespace = self.namespace or binding_namespace
            return bool(namespace) and user == f"system:serviceaccount:{namespace}:{self.name}"
        return False

    def describe(self, *, binding_namespace: str) -> str:
        """``ServiceAccount "name/namespace"``, ``Group "name"``, as allow reasons name them."""
        if self.kind == "ServiceAccount":
            return f'{self.kind} "{self.name}/{self.namespace or binding_namespace}"'
        return f'{self.kind} "{self.name}"'


@dataclass(frozen=True)
class Binding:
    """A RoleBinding or ClusterRoleBinding: who gets which role, and where (None: everywhere)."""

    kind: str
    name: str
    namespace: str | None
    role_kind: str
    role_name: str
    subjects: tuple[Subject, ...]

    def describe(self, subject: Subject) -> str:
        """Name the binding, its role and the subject that matched, in the RBAC authorizer's
        words (``rbac.go``'s describers, name/namespace order and all)."""
        name = f"{self.name}/{self.namespace}" if self.namespace else self.name
        return (
            f'{self.kind} "{name}" of {self.role_kind} "{self.role_name}" to '
            f"{subject.describe(binding_namespace=self.namespace or '')}"
        )


# What every cluster grants every authenticated user (the apiserver's bootstrap policy, reduced
# to the roles that matter here): API discovery and the OpenAPI documents, the version and
# health endpoints, and asking what it may do itself (`kubectl auth can-i`).
BOOTSTRAP_CLUSTER_ROLES: Mapping[str, tuple[PolicyRule, ...]] = {
    "system:discovery": (
        PolicyRule(
            verbs=frozenset({"get"}),
            non_resource_urls=frozenset(
                {
                    "/api",
                    "/api/*",
                    "/apis",
                    "/apis/*",
                    "/healthz",
                    "/livez",
                    "/openapi",
                    "/openapi/*",
                    "/readyz",
                    "/version",
                    "/version/",
                }
            ),
        ),
    ),
    "system:public-info-viewer": (
        PolicyRule(
            verbs=frozenset({"get"}),
            non_resource_urls=frozenset({"/healthz", "/livez", "/readyz", "/version", "/version/"}),
        ),
    ),
    "system:basic-user": (
        PolicyRule(
            verbs=frozenset({"create"}),
            api_groups=frozenset({"authorization.k8s.io"}),
            resources=frozenset({"selfsubjectaccessreviews", "selfsubjectrulesreviews"}),
        ),
        PolicyRule(
            verbs=frozenset({"create"}),
            api_groups=frozenset({"authentication.k8s.io"}),
            resources=frozenset({"selfsubjectreviews"}),
        ),
    ),
}
BOOTSTRAP_BINDINGS: tuple[Binding, ...] = tuple(
    Binding(
        kind="ClusterRoleBinding",
        name=role,
        namespace=None,
        role_kind="ClusterRole",
        role_name=role,
        subjects=(Subject("Group", "system:authenticated"),),
    )
    for role in BOOTSTRAP_CLUSTER_ROLES
)


def rules_from_object(obj: Mapping[str, Any]) -> tuple[PolicyRule, ...]:
    """Parse the ``rules`` of a Role or ClusterRole.

    Raises:
        RbacPolicyError: A rule is not a mapping or a rule field is not a list of strings.
    """
    raw_rules = obj.get("rules") or []
    if not isinstance(raw_rules, list):
        raise RbacPolicyError(f"{_describe(obj)}: rules must be a list")
    rules: list[PolicyRule] = []
    for raw in raw_rules:
        if not isinstance(raw, Mapping):
            raise RbacPolicyError(f"{_describe(obj)}: each rule must be a mapping")
        rules.append(
            PolicyRule(
                verbs=_strings(raw, "verbs", obj),
                api_groups=_strings(raw, "apiGroups", obj),
                resources=_strings(raw, "resources", obj),
                resource_names=_strings(raw, "resourceNames", obj),
                non_resource_urls=_strings(raw, "nonResourceURLs", obj),
            )
        )
    return tuple(rules)


def subjects_from_object(obj: Mapping[str, Any], *, owner: str) -> tuple[Subject, ...]:
    """Parse the ``subjects`` of a RoleBinding or ClusterRoleBinding.

    Raises:
        RbacPolicyError: A subject has no kind or name.
    """
    subjects: list[Subject] = []
    for raw in obj.get("subjects") or []:
        if not isinstance(raw, Mapping) or not raw.get("kind") or not raw.get("name"):
            raise RbacPolicyError(f"{owner}: every subject needs a kind and a name")
        subjects.append(
            Subject(
                kind=str(raw["kind"]),
                name=str(raw["name"]),
                namespace=str(raw.get("namespace") or ""),
            )
        )
    return tuple(subjects)


def name_and_namespace(obj: Mapping[str, Any], *, namespaced: bool) -> tuple[str, str | None]:
    """Read an object's name and (when namespaced) namespace.

    Raises:
        RbacPolicyError: The name, or the namespace of a namespaced object, is missing.
    """
    metadata = obj.get("metadata")
    if not isinstance(metadata, Mapping) or not metadata.get("name"):
        raise RbacPolicyError(f"{obj.get('kind')} without metadata.name")
    name = str(metadata["name"])
    if not namespaced:
        return name, None
    namespace = metadata.get("namespace")
    if not namespace:
        raise RbacPolicyError(f'{obj.get("kind")} "{name}" without metadata.namespace')
    return name, str(namespace)


def binding_from_object(
    obj: Mapping[str, Any], *, kind: str, name: str, namespace: str | None
) -> Binding:
    """Parse a RoleBinding (namespace set) or ClusterRoleBinding (namespace None).

    Raises:
        RbacPolicyError: The roleRef is missing, or names a kind the binding cannot reference.
    """
    role_ref = obj.get("roleRef")
    if not isinstance(role_ref, Mapping) or not role_ref.get("name"):
        raise RbacPolicyError(f'{kind} "{name}" without roleRef.name')
    role_kind = str(role_ref.get("kind", ""))
    allowed_kinds = {"ClusterRole"} if namespace is None else {"Role", "ClusterRole"}
    if role_kind not in allowed_kinds:
        raise RbacPolicyError(f'{kind} "{name}" cannot reference a {role_kind or "missing kind"}')
    return Binding(
        kind=kind,
        name=name,
        namespace=namespace,
        role_kind=role_kind,
        role_name=str(role_ref["name"]),
        subjects=subjects_from_object(obj, owner=f'{kind} "{name}"'),
    )


def _strings(rule: Mapping[str, Any], key: str, owner: Mapping[str, Any]) -> frozenset[str]:
    values = rule.get(key) or []
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise RbacPolicyError(f"{_describe(owner)}: {key} must be a list of strings")
    return frozenset(values)


def _describe(obj: Mapping[str, Any]) -> str:
    metadata = obj.get("metadata")
    name = metadata.get("name") if isinstance(metadata, Mapping) else None
    return f'{obj.get("kind")} "{name}"'
