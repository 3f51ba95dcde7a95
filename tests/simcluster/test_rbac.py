"""The simulated cluster's RBAC authorizer decides and words refusals as Kubernetes does."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from simcluster.rbac import (
    AccessRequest,
    RbacPolicy,
    RbacPolicyError,
    forbidden_message,
    forbidden_status,
)

ENGINE = "system:serviceaccount:service-runbooks:service-runbooks"
ENGINE_GROUPS = (
    "system:serviceaccounts",
    "system:serviceaccounts:service-runbooks",
    "system:authenticated",
)
AUTHENTICATED = ("system:authenticated",)


def rule(
    verbs: list[str],
    resources: list[str],
    *,
    groups: list[str] | None = None,
    names: list[str] | None = None,
) -> dict[str, Any]:
    """A PolicyRule as it appears in YAML."""
    body: dict[str, Any] = {"apiGroups": groups or [""], "resources": resources, "verbs": verbs}
    if names:
        body["resourceNames"] = names
    return body


def role(kind: str, name: str, rules: list[dict[str, Any]], namespace: str = "") -> dict[str, Any]:
    """A Role (with a namespace) or ClusterRole object."""
    metadata = {"name": name, "namespace": namespace} if namespace else {"name": name}
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": kind,
        "metadata": metadata,
        "rules": rules,
    }


def binding(
    name: str,
    *,
    role_ref: tuple[str, str],
    subjects: list[dict[str, str]],
    namespace: str = "",
) -> dict[str, Any]:
    """A RoleBinding (with a namespace) or ClusterRoleBinding object."""
    kind = "RoleBinding" if namespace else "ClusterRoleBinding"
    metadata = {"name": name, "namespace": namespace} if namespace else {"name": name}
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": kind,
        "metadata": metadata,
        "roleRef": {
            "apiGroup": "rbac.authorization.k8s.io",
            "kind": role_ref[0],
            "name": role_ref[1],
        },
        "subjects": subjects,
    }


POLICY_OBJECTS: list[dict[str, Any]] = [
    role("ClusterRole", "pod-reader", [rule(["get", "list", "watch"], ["pods"])]),
    role(
        "ClusterRole",
        "deployer",
        [
            rule(["*"], ["deployments"], groups=["apps"]),
            rule(["update"], ["*/scale"], groups=["apps"]),
        ],
    ),
    role("ClusterRole", "log-reader", [rule(["get"], ["pods/log"])]),
    role(
        "ClusterRole",
        "metrics-scraper",
        [{"nonResourceURLs": ["/metrics", "/debug/*"], "verbs": ["get"]}],
    ),
    role("Role", "settings-reader", [rule(["get"], ["configmaps"], names=["settings"])], "shop"),
    role("Role", "exec", [rule(["create"], ["pods/exec"])], "kube-system"),
    {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "ignored"}},
    binding(
        "alice-reads-pods",
        role_ref=("ClusterRole", "pod-reader"),
        subjects=[{"kind": "User", "name": "alice"}],
    ),
    binding(
        "scraper",
        role_ref=("ClusterRole", "metrics-scraper"),
        subjects=[{"kind": "User", "name": "scraper"}],
    ),
    binding(
        "sa-without-namespace",
        role_ref=("ClusterRole", "log-reader"),
        subjects=[{"kind": "ServiceAccount", "name": "app"}],
    ),
    binding(
        "shop-devs-deploy",
        role_ref=("ClusterRole", "deployer"),
        subjects=[{"kind": "Group", "name": "shop-devs"}],
        namespace="shop",
    ),
    binding(
        "app-reads-settings",
        role_ref=("Role", "settings-reader"),
        subjects=[{"kind": "ServiceAccount", "name": "app"}],
        namespace="shop",
    ),
    binding(
        "ops-exec",
        role_ref=("Role", "exec"),
        subjects=[{"kind": "ServiceAccount", "name": "ops", "namespace": "tools"}],
        namespace="kube-system",
    ),
    binding(
        "bob-ghost",
        role_ref=("Role", "ghost"),
        subjects=[{"kind": "User", "name": "bob"}],
        namespace="shop",
    ),
]

POLICY = RbacPolicy.from_objects(POLICY_OBJECTS)


def ask(
    user: str,
    verb: str,
    resource: str,
    *,
    groups: tuple[str, ...] = AUTHENTICATED,
    api_group: str = "",
    subresource: str = "",
    namespace: str | None = None,
    name: str | None = None,
) -> AccessRequest:
    """A resource request, spelled compactly for the tables below."""
    return AccessRequest(
        user,
        groups,
        verb=verb,
        api_group=api_group,
        resource=resource,
        subresource=subresource,
        namespace=namespace,
        name=name,
    )


@pytest.mark.parametrize(
    ("request_", "allowed"),
    [
        # A ClusterRoleBinding grants in every namespace and at the cluster scope.
        (ask("alice", "list", "pods", namespace="shop"), True),
        (ask("alice", "get", "pods", namespace="kube-system", name="kube-proxy-1"), True),
        (ask("alice", "watch", "pods"), True),
        (ask("alice", "delete", "pods", namespace="shop", name="web-1"), False),
        (ask("alice", "list", "services", namespace="shop"), False),
        (ask("alice", "list", "pods", api_group="apps", namespace="shop"), False),
        # A rule for the object does not grant its subresources.
        (ask("alice", "get", "pods", subresource="log", namespace="shop", name="web-1"), False),
        # A RoleBinding to a ClusterRole grants only in the binding's namespace.
        (
            ask(
                "dev",
                "delete",
                "deployments",
                groups=("shop-devs",),
                api_group="apps",
                namespace="shop",
                name="web",
            ),
            True,
        ),
        (
            ask(
                "dev",
                "create",
                "deployments",
                groups=("shop-devs",),
                api_group="apps",
                namespace="other",
            ),
            False,
        ),
        (ask("dev", "list", "deployments", groups=("shop-devs",), api_group="apps"), False),
        # `*/scale` grants that subresource of any resource in the group, not the resources.
        (
            ask(
                "dev",
                "update",
                "replicasets",
                groups=("shop-devs",),
                api_group="apps",
                subresource="scale",
                namespace="shop",
                name="web-5d4",
            ),
            True,
        ),
        (
            ask(
                "dev",
                "update",
                "replicasets",
                groups=("shop-devs",),
                api_group="apps",
                namespace="shop",
                name="web-5d4",
            ),
            False,
        ),
        # Even `*` verbs on deployments leave deployments/scale to the `*/scale` rule (update only).
        (
            ask(
                "dev",
                "patch",
                "deployments",
                groups=("shop-devs",),
                api_group="apps",
                subresource="scale",
                namespace="shop",
                name="web",
            ),
            False,
        ),
        # resourceNames limit a rule to the named objects, and never match a request without one.
        (
            ask(
                "system:serviceaccount:shop:app",
                "get",
                "configmaps",
                namespace="shop",
                name="settings",
            ),
            True,
        ),
        (
            ask(
                "system:serviceaccount:shop:app",
                "get",
                "configmaps",
                namespace="shop",
                name="secrets-in-disguise",
            ),
            False,
        ),
        (ask("system:serviceaccount:shop:app", "get", "configmaps", namespace="shop"), False),
        # ServiceAccount subjects: namespace defaults to the RoleBinding's, and matching is exact.
        (
            ask(
                "system:serviceaccount:other:app",
                "get",
                "configmaps",
                namespace="shop",
                name="settings",
            ),
            False,
        ),
        (
            ask(
                "system:serviceaccount:tools:ops",
                "create",
                "pods",
                subresource="exec",
                namespace="kube-system",
                name="kube-proxy-x",
            ),
            True,
        ),
        (
            ask(
                "system:serviceaccount:kube-system:ops",
                "create",
                "pods",
                subresource="exec",
                namespace="kube-system",
                name="kube-proxy-x",
            ),
            False,
        ),
        (
            ask(
                "system:serviceaccount:tools:ops",
                "create",
                "pods",
                subresource="exec",
                namespace="tools",
                name="toolbox",
            ),
            False,
        ),
        # A namespace-less ServiceAccount subject of a ClusterRoleBinding matches nobody.
        (
            ask(
                "system:serviceaccount:default:app",
                "get",
                "pods",
                subresource="log",
                namespace="default",
                name="x",
            ),
            False,
        ),
        # system:masters may do anything, RBAC or not.
        (ask("system:admin", "delete", "nodes", groups=("system:masters",), name="n1"), True),
        (ask("system:admin", "list", "secrets", groups=("system:masters",)), True),
        # A user with no bindings gets nothing.
        (ask("mallory", "get", "pods", namespace="shop", name="web-1"), False),
    ],
)
def test_requests_are_allowed_exactly_when_a_bound_rule_matches(
    request_: AccessRequest, allowed: bool
) -> None:
    assert POLICY.authorize(request_).allowed is allowed


@pytest.mark.parametrize(
    ("user", "groups", "path", "allowed"),
    [
        ("mallory", AUTHENTICATED, "/api", True),
        ("mallory", AUTHENTICATED, "/apis/apps/v1", True),
        ("mallory", AUTHENTICATED, "/version", True),
        ("mallory", AUTHENTICATED, "/openapi/v3", True),
        ("mallory", AUTHENTICATED, "/metrics", False),
        ("system:anonymous", ("system:unauthenticated",), "/api", False),
        ("scraper", (), "/metrics", True),
        ("scraper", (), "/debug/pprof/heap", True),
        ("scraper", (), "/debugging", False),
        ("system:admin", ("system:masters",), "/metrics", True),
    ],
)
def test_non_resource_urls_are_open_to_authenticated_users_for_discovery_only(
    user: str, groups: tuple[str, ...], path: str, allowed: bool
) -> None:
    request = AccessRequest(user, groups, verb="get", path=path)

    assert POLICY.authorize(request).allowed is allowed


def test_non_resource_urls_grant_only_their_verbs() -> None:
    request = AccessRequest("scraper", (), verb="post", path="/metrics")

    assert POLICY.authorize(request).allowed is False


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        (
            ask("carol", "delete", "pods", namespace="kube-system", name="kube-proxy-abcde"),
            'pods "kube-proxy-abcde" is forbidden: User "carol" cannot delete resource "pods" '
            'in API group "" in the namespace "kube-system"',
        ),
        (
            ask("carol", "list", "pods", namespace="shop"),
            'pods is forbidden: User "carol" cannot list resource "pods" in API group "" '
            'in the namespace "shop"',
        ),
        (
            ask("carol", "list", "nodes"),
            'nodes is forbidden: User "carol" cannot list resource "nodes" in API group "" '
            "at the cluster scope",
        ),
        (
            ask(
                ENGINE,
                "create",
                "pods",
                groups=ENGINE_GROUPS,
                subresource="exec",
                namespace="kube-system",
                name="kube-proxy-abcde",
            ),
            f'pods "kube-proxy-abcde" is forbidden: User "{ENGINE}" cannot create resource '
            '"pods/exec" in API group "" in the namespace "kube-system"',
        ),
        (
            # Kubernetes qualifies the leading resource with its group (GroupResource.String()).
            ask(
                "carol",
                "patch",
                "daemonsets",
                api_group="apps",
                namespace="kube-system",
                name="kube-proxy",
            ),
            'daemonsets.apps "kube-proxy" is forbidden: User "carol" cannot patch resource '
            '"daemonsets" in API group "apps" in the namespace "kube-system"',
        ),
        (
            ask("carol", "list", "endpointslices", api_group="discovery.k8s.io"),
            'endpointslices.discovery.k8s.io is forbidden: User "carol" cannot list resource '
            '"endpointslices" in API group "discovery.k8s.io" at the cluster scope',
        ),
        (
            # A binding whose role does not exist is reported as the RBAC authorizer's reason.
            ask("bob", "get", "pods", namespace="shop", name="web-1"),
            'pods "web-1" is forbidden: User "bob" cannot get resource "pods" in API group "" '
            'in the namespace "shop": RBAC: role.rbac.authorization.k8s.io "ghost" not found',
        ),
        (
            # ...but only in the namespace that binding applies to.
            ask("bob", "get", "pods", namespace="default", name="web-1"),
            'pods "web-1" is forbidden: User "bob" cannot get resource "pods" in API group "" '
            'in the namespace "default"',
        ),
    ],
)
def test_refusals_carry_the_kubernetes_message(request_: AccessRequest, message: str) -> None:
    decision = POLICY.authorize(request_)

    assert (decision.allowed, decision.message) == (False, message)


def test_a_refused_non_resource_request_names_the_path() -> None:
    decision = POLICY.authorize(AccessRequest("carol", AUTHENTICATED, verb="get", path="/metrics"))

    assert decision.message == 'forbidden: User "carol" cannot get path "/metrics"'


def test_an_allowed_request_says_which_binding_allowed_it() -> None:
    decision = POLICY.authorize(
        ask(
            "system:serviceaccount:shop:app", "get", "configmaps", namespace="shop", name="settings"
        )
    )

    assert decision.allowed
    assert decision.message == (
        'RBAC: allowed by RoleBinding "app-reads-settings/shop" of Role "settings-reader" '
        'to ServiceAccount "app/shop"'
    )


@pytest.mark.parametrize(
    ("request_", "reason"),
    [
        (
            ask("alice", "list", "pods", namespace="shop"),
            'RBAC: allowed by ClusterRoleBinding "alice-reads-pods" of ClusterRole "pod-reader" '
            'to User "alice"',
        ),
        (
            AccessRequest("mallory", AUTHENTICATED, verb="get", path="/openapi/v3"),
            'RBAC: allowed by ClusterRoleBinding "system:discovery" of ClusterRole '
            '"system:discovery" to Group "system:authenticated"',
        ),
        (
            ask(
                "mallory",
                "create",
                "selfsubjectaccessreviews",
                groups=AUTHENTICATED,
                api_group="authorization.k8s.io",
            ),
            'RBAC: allowed by ClusterRoleBinding "system:basic-user" of ClusterRole '
            '"system:basic-user" to Group "system:authenticated"',
        ),
        (ask("carol", "list", "pods", namespace="shop"), ""),
        (
            ask("bob", "get", "pods", namespace="shop", name="web-1"),
            'RBAC: role.rbac.authorization.k8s.io "ghost" not found',
        ),
        (ask("root", "delete", "nodes", groups=("system:masters",), name="node-1"), ""),
    ],
    ids=["binding", "discovery", "basic-user", "no-rule", "missing-role", "privileged"],
)
def test_the_reason_is_the_authorizers_as_an_access_review_reports_it(
    request_: AccessRequest, reason: str
) -> None:
    assert POLICY.authorize(request_).reason == reason


def test_the_forbidden_status_is_a_complete_kubernetes_status() -> None:
    request = ask(
        "carol", "patch", "daemonsets", api_group="apps", namespace="kube-system", name="kube-proxy"
    )

    status = forbidden_status(request, POLICY.authorize(request))

    assert status == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": forbidden_message(request),
        "reason": "Forbidden",
        "details": {"name": "kube-proxy", "group": "apps", "kind": "daemonsets"},
        "code": 403,
    }


def test_the_forbidden_status_leaves_out_empty_details_as_kubernetes_does() -> None:
    request = ask("carol", "list", "pods", namespace="shop")

    status = forbidden_status(request, POLICY.authorize(request))

    assert status["details"] == {"kind": "pods"}


def test_an_allowed_decision_has_no_forbidden_status() -> None:
    request = ask("alice", "list", "pods")

    with pytest.raises(ValueError, match="allowed"):
        forbidden_status(request, POLICY.authorize(request))


MULTI_DOCUMENT_YAML = """\
# a comment-only document, an empty one, and an object of another kind are all skipped
---
---
apiVersion: v1
kind: Service
metadata: {name: ignored, namespace: shop}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: svc-reader}
rules:
  - {apiGroups: [""], resources: [services], verbs: [get, list]}
"""

BINDING_YML = """\
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: svc-reader, namespace: shop}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: svc-reader}
subjects:
  - {kind: User, name: dana}
"""


def test_a_policy_loads_every_yaml_document_under_a_directory(tmp_path: Path) -> None:
    (tmp_path / "roles.yaml").write_text(MULTI_DOCUMENT_YAML, encoding="utf-8")
    (tmp_path / "nested").mkdir()
    (tmp_path / "nested" / "binding.yml").write_text(BINDING_YML, encoding="utf-8")
    (tmp_path / "README.md").write_text("not a manifest: [", encoding="utf-8")

    policy = RbacPolicy.from_directory(tmp_path)

    assert policy.authorize(ask("dana", "list", "services", namespace="shop")).allowed
    assert not policy.authorize(ask("dana", "list", "services", namespace="prod")).allowed


def test_a_kubernetes_list_contributes_its_items() -> None:
    items = [POLICY_OBJECTS[0], POLICY_OBJECTS[7]]
    policy = RbacPolicy.from_objects([{"apiVersion": "v1", "kind": "List", "items": items}])

    assert policy.authorize(ask("alice", "list", "pods")).allowed


def test_broken_yaml_is_reported_with_its_file(tmp_path: Path) -> None:
    (tmp_path / "broken.yaml").write_text("kind: Role\nmetadata: [unclosed\n", encoding="utf-8")

    with pytest.raises(RbacPolicyError, match=r"broken\.yaml"):
        RbacPolicy.from_directory(tmp_path)


@pytest.mark.parametrize(
    ("obj", "complaint"),
    [
        ({"kind": "ClusterRole", "metadata": {}}, "metadata.name"),
        ({"kind": "Role", "metadata": {"name": "r"}, "rules": []}, "metadata.namespace"),
        ({"kind": "ClusterRoleBinding", "metadata": {"name": "b"}, "subjects": []}, "roleRef"),
        (
            binding("b", role_ref=("Role", "r"), subjects=[{"kind": "User", "name": "u"}]),
            "cannot reference a Role",
        ),
        (
            binding("b", role_ref=("ClusterRole", "r"), subjects=[{"kind": "User"}]),
            "kind and a name",
        ),
        (role("ClusterRole", "r", [{"verbs": "get", "resources": ["pods"]}]), "verbs"),
    ],
)
def test_malformed_rbac_objects_are_refused(obj: dict[str, Any], complaint: str) -> None:
    with pytest.raises(RbacPolicyError, match=complaint):
        RbacPolicy.from_objects([obj])
