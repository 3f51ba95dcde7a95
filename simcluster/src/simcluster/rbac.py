"""Kubernetes RBAC for the simulated cluster: roles and bindings in, allow or deny out."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import KW_ONLY, dataclass
from pathlib import Path
from typing import Any

import yaml

from simcluster.rbac_rules import (
    BOOTSTRAP_BINDINGS,
    BOOTSTRAP_CLUSTER_ROLES,
    Binding,
    PolicyRule,
    RbacPolicyError,
    Subject,
    binding_from_object,
    name_and_namespace,
    rules_from_object,
)

__all__ = [
    "AccessRequest",
    "Decision",
    "PolicyRule",
    "RbacPolicy",
    "RbacPolicyError",
    "Subject",
    "forbidden_message",
    "forbidden_status",
]

PRIVILEGED_GROUP = "system:masters"
_RBAC_KINDS = frozenset({"Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding"})


@dataclass(frozen=True)
class AccessRequest:
    """The attributes of one API request that authorization decides on.

    A resource request names a resource; a non-resource request (discovery, ``/version``) sets
    ``path`` instead and leaves ``resource`` empty.

    Attributes:
        user: The authenticated user name.
        groups: The user's groups.
        verb: The RBAC verb (get, list, watch, create, update, patch, delete, deletecollection).
        api_group: The API group; empty for the core group.
        resource: The resource's plural name, e.g. ``pods``.
        subresource: The subresource, e.g. ``exec``; empty for the object itself.
        namespace: The namespace; None for cluster-scoped requests.
        name: The object's name; None for list, watch and create.
        path: The URL path of a non-resource request; None for resource requests.
    """

    user: str
    groups: tuple[str, ...]
    _: KW_ONLY
    verb: str
    api_group: str = ""
    resource: str = ""
    subresource: str = ""
    namespace: str | None = None
    name: str | None = None
    path: str | None = None

    @property
    def is_resource_request(self) -> bool:
        """Whether this request addresses a resource rather than a bare URL path."""
        return self.path is None


@dataclass(frozen=True)
class Decision:
    """The outcome of authorizing a request.

    Attributes:
        allowed: Whether the request may proceed.
        message: For a denial, the full Kubernetes ``Status.message``; for an allow, why it was
            allowed (which binding, role and subject), for logs.
        reason: The authorizer's own reason, as a SubjectAccessReview's ``status.reason`` gives
            it: the allowing binding, or for a denial the bindings whose role is missing
            (usually nothing: no rule matched).
    """

    allowed: bool
    message: str
    reason: str = ""


class RbacPolicy:
    """A set of Roles, ClusterRoles and their bindings, evaluated as Kubernetes RBAC does."""

    def __init__(
        self,
        *,
        roles: Mapping[tuple[str, str], tuple[PolicyRule, ...]],
        cluster_roles: Mapping[str, tuple[PolicyRule, ...]],
        bindings: Iterable[Binding],
    ) -> None:
        """Create a policy from parsed parts; use `from_objects` or `from_directory` instead.

        The bootstrap ClusterRoles and bindings every cluster has are added (given ones win).
        """
        self._roles = dict(roles)
        self._cluster_roles = {**BOOTSTRAP_CLUSTER_ROLES, **cluster_roles}
        all_bindings = (*BOOTSTRAP_BINDINGS, *bindings)
        self._cluster_bindings = tuple(b for b in all_bindings if b.namespace is None)
        self._bindings_by_namespace: dict[str, list[Binding]] = {}
        for binding in all_bindings:
            if binding.namespace is not None:
                self._bindings_by_namespace.setdefault(binding.namespace, []).append(binding)

    @classmethod
    def from_objects(cls, objects: Iterable[Mapping[str, Any]]) -> RbacPolicy:
        """Build a policy from Kubernetes objects; kinds other than the four RBAC kinds are ignored.

        Raises:
            RbacPolicyError: An RBAC object is malformed (missing name, namespace or roleRef).
        """
        roles: dict[tuple[str, str], tuple[PolicyRule, ...]] = {}
        cluster_roles: dict[str, tuple[PolicyRule, ...]] = {}
        bindings: list[Binding] = []
        for obj in _flatten_lists(objects):
            kind = obj.get("kind")
            if kind not in _RBAC_KINDS:
                continue
            name, namespace = name_and_namespace(obj, namespaced=kind in {"Role", "RoleBinding"})
            if kind == "Role":
                roles[(str(namespace), name)] = rules_from_object(obj)
            elif kind == "ClusterRole":
                cluster_roles[name] = rules_from_object(obj)
            else:
                bindings.append(
                    binding_from_object(obj, kind=str(kind), name=name, namespace=namespace)
                )
        return cls(roles=roles, cluster_roles=cluster_roles, bindings=bindings)

    @classmethod
    def from_directory(cls, directory: Path | str) -> RbacPolicy:
        """Build a policy from every ``*.yaml``/``*.yml`` file under a directory (multi-document).

        Raises:
            RbacPolicyError: A file is not valid YAML or holds a malformed RBAC object.
        """
        objects: list[Mapping[str, Any]] = []
        root = Path(directory)
        for path in sorted(p for p in root.rglob("*") if p.suffix in {".yaml", ".yml"}):
            try:
                documents = list(yaml.safe_load_all(path.read_text(encoding="utf-8")))
            except yaml.YAMLError as error:
                raise RbacPolicyError(f"{path}: not valid YAML: {error}") from error
            objects.extend(doc for doc in documents if isinstance(doc, Mapping))
        return cls.from_objects(objects)

    def authorize(self, request: AccessRequest) -> Decision:
        """Decide a request: allowed if any applicable binding's role has a matching rule."""
        if PRIVILEGED_GROUP in request.groups:
            # The privileged-group authorizer runs before RBAC and gives no reason.
            return Decision(True, f'allowed by group "{PRIVILEGED_GROUP}"')
        errors: list[str] = []
        for binding, subject in self._applicable_bindings(request):
            rules = self._rules_of(binding)
            if rules is None:
                errors.append(_missing_role_error(binding))
            elif any(rule.allows(request) for rule in rules):
                reason = f"RBAC: allowed by {binding.describe(subject)}"
                return Decision(True, reason, reason)
        reason = ""
        if errors:
            unique = list(dict.fromkeys(errors))
            reason = "RBAC: " + (unique[0] if len(unique) == 1 else f"[{', '.join(unique)}]")
        return Decision(False, forbidden_message(request, reason=reason), reason)

    def _applicable_bindings(self, request: AccessRequest) -> Iterable[tuple[Binding, Subject]]:
        # Order matters only for which binding the allow message names; Kubernetes visits
        # ClusterRoleBindings first, then the RoleBindings of the request's namespace.
        candidates = list(self._cluster_bindings)
        if request.namespace:
            candidates.extend(self._bindings_by_namespace.get(request.namespace, ()))
        user, groups = request.user, request.groups
        for binding in candidates:
            for subject in binding.subjects:
                if subject.applies_to(user, groups, binding_namespace=binding.namespace):
                    yield binding, subject
                    break

    def _rules_of(self, binding: Binding) -> tuple[PolicyRule, ...] | None:
        if binding.role_kind == "ClusterRole":
            return self._cluster_roles.get(binding.role_name)
        return self._roles.get((str(binding.namespace), binding.role_name))


def forbidden_message(request: AccessRequest, *, reason: str = "") -> str:
    """Render the ``Status.message`` the API server sends with a 403 for this request.

    Mirrors ``responsewriters.Forbidden`` and ``errors.NewForbidden``: the qualified resource
    (``daemonsets.apps``) and the object's name prefix the authorizer's wording.
    """
    if not request.is_resource_request:
        detail = f'User "{request.user}" cannot {request.verb} path "{request.path}"'
        return f"forbidden: {_with_reason(detail, reason)}"
    resource = request.resource
    if request.subresource:
        resource = f"{resource}/{request.subresource}"
    detail = (
        f'User "{request.user}" cannot {request.verb} resource "{resource}" '
        f'in API group "{request.api_group}"'
    )
    if request.namespace:
        detail += f' in the namespace "{request.namespace}"'
    else:
        detail += " at the cluster scope"
    qualified = _qualified_resource(request)
    subject = f'{qualified} "{request.name}"' if request.name else qualified
    return f"{subject} is forbidden: {_with_reason(detail, reason)}"


def forbidden_status(request: AccessRequest, decision: Decision) -> dict[str, Any]:
    """Build the ``Status`` object the API server returns with HTTP 403 for a denied request.

    Raises:
        ValueError: The decision allowed the request.
    """
    if decision.allowed:
        raise ValueError("an allowed request has no Forbidden status")
    # Empty fields are left out, as Go's omitempty does for StatusDetails.
    details: dict[str, str] = {}
    if request.is_resource_request:
        if request.name:
            details["name"] = request.name
        if request.api_group:
            details["group"] = request.api_group
        details["kind"] = request.resource
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": decision.message,
        "reason": "Forbidden",
        "details": details,
        "code": 403,
    }


def _with_reason(detail: str, reason: str) -> str:
    return f"{detail}: {reason}" if reason else detail


def _qualified_resource(request: AccessRequest) -> str:
    if request.api_group:
        return f"{request.resource}.{request.api_group}"
    return request.resource


def _missing_role_error(binding: Binding) -> str:
    kind = binding.role_kind.lower()
    return f'{kind}.rbac.authorization.k8s.io "{binding.role_name}" not found'


def _flatten_lists(objects: Iterable[Mapping[str, Any]]) -> Iterable[Mapping[str, Any]]:
    for obj in objects:
        if str(obj.get("kind", "")).endswith("List"):
            items = obj.get("items") or []
            yield from (item for item in items if isinstance(item, Mapping))
        else:
            yield obj
