"""The engine's manifests, as written, are valid Kubernetes objects; its RBAC is least-privileged.

These read the files themselves and need no kubectl; test_kustomize.py checks what kustomize
renders from them.
"""

from __future__ import annotations

from typing import Any

import kubernetes_validate
import pytest

from tests.deploy.manifests import (
    BASE_DIR,
    RBAC_DIR,
    SCHEMA_VERSIONS,
    Manifest,
    is_custom_resource,
    load_manifests,
    only,
)

ALL_MANIFESTS = load_manifests(RBAC_DIR, BASE_DIR)
RBAC_MANIFESTS = load_manifests(RBAC_DIR)
ENGINE_MANIFESTS = load_manifests(BASE_DIR)
RULES = [
    (m.label, rule)
    for m in RBAC_MANIFESTS
    if m.kind in {"Role", "ClusterRole"}
    for rule in m.body["rules"]
]


def test_the_manifest_directories_hold_every_object_the_engine_needs() -> None:
    assert sorted(m.kind for m in RBAC_MANIFESTS) == [
        "ClusterRole",
        "ClusterRole",
        "ClusterRoleBinding",
        "ClusterRoleBinding",
        "Role",
        "RoleBinding",
        "ServiceAccount",
    ]
    assert sorted(m.kind for m in ENGINE_MANIFESTS) == [
        "Deployment",
        "Namespace",
        "NetworkPolicy",
        "PersistentVolumeClaim",
        "PodDisruptionBudget",
        "Service",
        "ServiceMonitor",
    ]


@pytest.mark.parametrize("version", SCHEMA_VERSIONS)
@pytest.mark.parametrize(
    "manifest", [m for m in ALL_MANIFESTS if not is_custom_resource(m.body)], ids=lambda m: m.label
)
def test_every_manifest_validates_strictly_against_the_kubernetes_schema(
    manifest: Manifest, version: str
) -> None:
    validated = kubernetes_validate.validate(manifest.body, version, strict=True)

    assert version.startswith(validated)


@pytest.mark.parametrize("version", SCHEMA_VERSIONS)
def test_strict_validation_rejects_a_misspelled_field(version: str) -> None:
    service = only(ENGINE_MANIFESTS, "Service")
    misspelled = {**service, "spec": {**service["spec"], "selectr": {"app": "x"}}}

    with pytest.raises(kubernetes_validate.ValidationError, match="selectr"):
        kubernetes_validate.validate(misspelled, version, strict=True)


@pytest.mark.parametrize(("label", "rule"), RULES, ids=[label for label, _ in RULES])
@pytest.mark.parametrize("field", ["verbs", "apiGroups", "resources", "resourceNames"])
def test_no_rule_uses_a_wildcard(label: str, rule: dict[str, Any], field: str) -> None:
    assert not [value for value in rule.get(field, []) if "*" in value], label


def test_no_rule_grants_raw_urls() -> None:
    assert not [label for label, rule in RULES if "nonResourceURLs" in rule]


def test_every_binding_grants_only_the_engines_service_account() -> None:
    account = only(RBAC_MANIFESTS, "ServiceAccount")["metadata"]
    expected = [
        {"kind": "ServiceAccount", "name": account["name"], "namespace": account["namespace"]}
    ]

    for manifest in RBAC_MANIFESTS:
        if manifest.kind.endswith("Binding"):
            assert manifest.body["subjects"] == expected, manifest.label


def test_every_binding_references_a_role_defined_alongside_it() -> None:
    defined = {(m.kind, m.body["metadata"]["name"]) for m in RBAC_MANIFESTS}

    for manifest in RBAC_MANIFESTS:
        if manifest.kind.endswith("Binding"):
            role_ref = manifest.body["roleRef"]
            assert (role_ref["kind"], role_ref["name"]) in defined, manifest.label


def test_namespaced_grants_live_in_kube_system_only() -> None:
    namespaces = {
        m.body["metadata"]["namespace"] for m in RBAC_MANIFESTS if m.kind in {"Role", "RoleBinding"}
    }

    assert namespaces == {"kube-system"}


def test_the_engine_runs_as_the_service_account_in_its_own_namespace() -> None:
    namespace = only(ENGINE_MANIFESTS, "Namespace")["metadata"]["name"]
    account = only(RBAC_MANIFESTS, "ServiceAccount")["metadata"]
    deployment = only(ENGINE_MANIFESTS, "Deployment")

    assert account["namespace"] == namespace
    assert deployment["metadata"]["namespace"] == namespace
    assert deployment["spec"]["template"]["spec"]["serviceAccountName"] == account["name"]


def _engine_container() -> dict[str, Any]:
    containers = only(ENGINE_MANIFESTS, "Deployment")["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    container: dict[str, Any] = containers[0]
    return container


def _container_port(container: dict[str, Any], port: int | str) -> int:
    if isinstance(port, int):
        return port
    return next(int(p["containerPort"]) for p in container["ports"] if p["name"] == port)


@pytest.mark.parametrize(
    ("probe", "path"), [("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")]
)
def test_the_engine_is_probed_over_http_on_port_8080(probe: str, path: str) -> None:
    container = _engine_container()
    http_get = container[probe]["httpGet"]

    assert http_get["path"] == path
    assert _container_port(container, http_get["port"]) == 8080


def test_the_engine_container_cannot_escalate_or_write_its_root_filesystem() -> None:
    pod = only(ENGINE_MANIFESTS, "Deployment")["spec"]["template"]["spec"]
    container = _engine_container()["securityContext"]

    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] != 0
    assert container["readOnlyRootFilesystem"] is True
    assert container["allowPrivilegeEscalation"] is False
    assert container["capabilities"]["drop"] == ["ALL"]


def test_the_engine_container_declares_its_resources() -> None:
    resources = _engine_container()["resources"]

    assert set(resources["requests"]) == {"cpu", "memory"}
    assert "memory" in resources["limits"]


def test_the_receiver_service_reaches_the_engine_pods_on_8080() -> None:
    service = only(ENGINE_MANIFESTS, "Service")
    pod_labels = only(ENGINE_MANIFESTS, "Deployment")["spec"]["template"]["metadata"]["labels"]
    container = _engine_container()

    assert service["spec"]["selector"].items() <= pod_labels.items()
    [port] = service["spec"]["ports"]
    assert port["port"] == 8080
    assert _container_port(container, port["targetPort"]) == 8080
