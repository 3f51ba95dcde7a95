"""deploy/rbac grants the engine exactly what its flows need, checked with the sim's authorizer."""

from __future__ import annotations

import itertools

import pytest

from simcluster.authn import ENGINE_USER
from simcluster.rbac import AccessRequest, RbacPolicy
from tests.deploy.manifests import RBAC_DIR

POLICY = RbacPolicy.from_directory(RBAC_DIR)

READ = frozenset({"get", "list", "watch"})

# What the flows need everywhere, keyed by (API group, resource[/subresource]).
CLUSTER_WIDE: dict[tuple[str, str], frozenset[str]] = {
    ("", "services"): READ | {"create", "delete", "patch"},
    ("", "endpoints"): READ,
    ("", "pods"): READ | {"delete"},
    ("", "pods/log"): frozenset({"get"}),
    ("", "nodes"): READ,
    ("", "events"): READ,
    ("discovery.k8s.io", "endpointslices"): READ,
    ("apps", "deployments"): READ,
    ("apps", "replicasets"): READ,
    ("apps", "statefulsets"): READ,
    ("apps", "daemonsets"): READ,
}

# What the kube-proxy flows need in kube-system only (named objects are named "kube-proxy").
KUBE_SYSTEM_ONLY: dict[tuple[str, str], frozenset[str]] = {
    ("apps", "daemonsets"): frozenset({"patch"}),
    ("apps", "controllerrevisions"): frozenset({"get", "list"}),
    ("", "pods/exec"): frozenset({"create", "get"}),
    ("", "configmaps"): frozenset({"get"}),
}

VERBS = ("get", "list", "watch", "create", "update", "patch", "delete", "deletecollection")
NAMED_VERBS = frozenset({"get", "update", "patch", "delete"})
RESOURCES = (
    ("", "pods"),
    ("", "pods/log"),
    ("", "pods/exec"),
    ("", "pods/portforward"),
    ("", "pods/eviction"),
    ("", "pods/status"),
    ("", "services"),
    ("", "services/proxy"),
    ("", "services/status"),
    ("", "endpoints"),
    ("", "nodes"),
    ("", "nodes/proxy"),
    ("", "events"),
    ("", "configmaps"),
    ("", "secrets"),
    ("", "namespaces"),
    ("", "serviceaccounts"),
    ("", "serviceaccounts/token"),
    ("discovery.k8s.io", "endpointslices"),
    ("events.k8s.io", "events"),
    ("apps", "deployments"),
    ("apps", "deployments/scale"),
    ("apps", "replicasets"),
    ("apps", "daemonsets"),
    ("apps", "statefulsets"),
    ("apps", "controllerrevisions"),
    ("networking.k8s.io", "networkpolicies"),
    ("rbac.authorization.k8s.io", "clusterrolebindings"),
    ("rbac.authorization.k8s.io", "roles"),
)
SCOPES = ("kube-system", "shop", "service-runbooks", None)

Grant = tuple[str, str, str, str | None]


def engine_asks(
    verb: str, api_group: str, resource: str, namespace: str | None, name: str | None = None
) -> AccessRequest:
    """A request by the engine's ServiceAccount, as the sim's authenticator reports it."""
    plain, _, subresource = resource.partition("/")
    return AccessRequest(
        ENGINE_USER.name,
        ENGINE_USER.groups,
        verb=verb,
        api_group=api_group,
        resource=plain,
        subresource=subresource,
        namespace=namespace,
        name=name,
    )


def expected_grants() -> set[Grant]:
    """Every (verb, group, resource, namespace) in the universe the engine should be allowed."""
    grants: set[Grant] = set()
    for verb, (group, resource), scope in itertools.product(VERBS, RESOURCES, SCOPES):
        if verb in CLUSTER_WIDE.get((group, resource), ()):
            grants.add((verb, group, resource, scope))
        if scope == "kube-system" and verb in KUBE_SYSTEM_ONLY.get((group, resource), ()):
            grants.add((verb, group, resource, scope))
    return grants


def test_the_engine_is_granted_exactly_what_its_flows_need() -> None:
    granted = {
        (verb, group, resource, scope)
        for verb, (group, resource), scope in itertools.product(VERBS, RESOURCES, SCOPES)
        if POLICY.authorize(
            engine_asks(
                verb, group, resource, scope, name="kube-proxy" if verb in NAMED_VERBS else None
            )
        ).allowed
    }

    assert granted == expected_grants()


@pytest.mark.parametrize(
    ("verb", "group", "resource", "namespace", "name"),
    [
        ("delete", "apps", "daemonsets", "kube-system", "kube-proxy"),
        ("patch", "apps", "daemonsets", "shop", "kube-proxy"),
        ("patch", "apps", "daemonsets", "kube-system", "coredns"),
        ("update", "apps", "daemonsets", "kube-system", "kube-proxy"),
        ("create", "", "pods/exec", "shop", "web-1"),
        ("create", "", "pods/exec", "default", "kube-proxy-abcde"),
        ("list", "", "secrets", None, None),
        ("list", "", "secrets", "kube-system", None),
        ("get", "", "configmaps", "kube-system", "coredns"),
        ("list", "", "configmaps", "kube-system", None),
        ("create", "", "pods", "kube-system", None),
        ("create", "", "events", "service-runbooks", None),
        ("patch", "", "nodes", None, "node-1"),
        ("update", "", "services", "shop", "web"),
        ("deletecollection", "", "pods", "shop", None),
    ],
)
def test_the_engine_is_refused_what_no_flow_needs(
    verb: str, group: str, resource: str, namespace: str | None, name: str | None
) -> None:
    assert not POLICY.authorize(engine_asks(verb, group, resource, namespace, name)).allowed


@pytest.mark.parametrize(
    ("verb", "group", "resource", "namespace", "name"),
    [
        ("delete", "", "pods", "kube-system", "kube-proxy-abcde"),
        ("delete", "", "pods", "shop", "web-7c9d-x2x"),
        ("create", "", "services", "shop", None),
        ("delete", "", "services", "shop", "web-emergency-nodeport"),
        ("patch", "", "services", "shop", "web"),
        ("list", "", "nodes", None, None),
        ("watch", "discovery.k8s.io", "endpointslices", None, None),
        ("get", "", "pods/log", "kube-system", "kube-proxy-abcde"),
        ("patch", "apps", "daemonsets", "kube-system", "kube-proxy"),
        ("list", "apps", "controllerrevisions", "kube-system", None),
        ("create", "", "pods/exec", "kube-system", "kube-proxy-abcde"),
        ("get", "", "configmaps", "kube-system", "kube-proxy"),
    ],
)
def test_the_engine_may_take_every_flow_step(
    verb: str, group: str, resource: str, namespace: str | None, name: str | None
) -> None:
    assert POLICY.authorize(engine_asks(verb, group, resource, namespace, name)).allowed


def test_a_refused_exec_outside_kube_system_reads_as_kubernetes_would() -> None:
    decision = POLICY.authorize(engine_asks("create", "", "pods/exec", "shop", "web-1"))

    assert decision.message == (
        'pods "web-1" is forbidden: User "system:serviceaccount:service-runbooks:service-runbooks"'
        ' cannot create resource "pods/exec" in API group "" in the namespace "shop"'
    )
