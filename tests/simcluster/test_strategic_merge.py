"""Strategic merge patches on the kinds the simulated cluster serves."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson
import pytest

from simcluster import resources
from simcluster.api.openapi_schemas import definitions, resolve, schema_name
from simcluster.errors import BadRequestError, InternalError
from simcluster.patching import apply_patch
from simcluster.strategic_merge import merge_key_for, strategic_merge

STRATEGIC = "application/strategic-merge-patch+json"


def _kube_proxy() -> dict[str, Any]:
    """The kube-proxy DaemonSet with a metrics sidecar, as the simulated cluster stores it."""
    return {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {
            "name": "kube-proxy",
            "namespace": "kube-system",
            "uid": "ds-1",
            "resourceVersion": "100",
            "generation": 4,
            "finalizers": ["example.com/audit"],
        },
        "spec": {
            "selector": {"matchLabels": {"k8s-app": "kube-proxy"}},
            "template": {
                "metadata": {
                    "labels": {"k8s-app": "kube-proxy"},
                    "annotations": {"kubectl.kubernetes.io/restartedAt": "2024-05-01T10:00:00Z"},
                },
                "spec": {
                    "containers": [
                        {
                            "name": "kube-proxy",
                            "image": "registry.k8s.io/kube-proxy:v1.30.2",
                            "env": [{"name": "NODE_NAME", "value": "x"}],
                            "ports": [{"containerPort": 10249, "name": "metrics"}],
                            "volumeMounts": [
                                {"name": "kube-proxy", "mountPath": "/var/lib/kube-proxy"},
                                {"name": "xtables-lock", "mountPath": "/run/xtables.lock"},
                            ],
                        },
                        {"name": "metrics-proxy", "image": "metrics-proxy:1.0"},
                    ],
                    "tolerations": [{"operator": "Exists"}],
                    "volumes": [{"name": "kube-proxy", "configMap": {"name": "kube-proxy"}}],
                },
            },
            "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1}},
        },
    }


def _containers(obj: dict[str, Any]) -> list[dict[str, Any]]:
    containers: list[dict[str, Any]] = obj["spec"]["template"]["spec"]["containers"]
    return containers


def _template_patch(pod_spec: dict[str, Any]) -> bytes:
    return orjson.dumps({"spec": {"template": {"spec": pod_spec}}})


def _patch(obj: dict[str, Any], body: bytes | dict[str, Any]) -> dict[str, Any]:
    raw = body if isinstance(body, bytes) else orjson.dumps(body)
    return apply_patch(obj, raw, STRATEGIC)


def test_changing_one_containers_image_leaves_the_other_container_alone() -> None:
    stored = _kube_proxy()
    body = _template_patch({"containers": [{"name": "kube-proxy", "image": "kube-proxy:v1.30.1"}]})
    containers = _containers(_patch(stored, body))
    assert [c["name"] for c in containers] == ["kube-proxy", "metrics-proxy"]
    assert containers[0] == {**_containers(stored)[0], "image": "kube-proxy:v1.30.1"}
    assert containers[1] == {"name": "metrics-proxy", "image": "metrics-proxy:1.0"}


def test_an_env_var_is_added_by_name_next_to_the_existing_one() -> None:
    body = _template_patch(
        {"containers": [{"name": "kube-proxy", "env": [{"name": "LOG_LEVEL", "value": "4"}]}]}
    )
    env = _containers(_patch(_kube_proxy(), body))[0]["env"]
    assert env == [{"name": "NODE_NAME", "value": "x"}, {"name": "LOG_LEVEL", "value": "4"}]


def test_an_env_var_value_is_changed_in_place() -> None:
    body = _template_patch(
        {"containers": [{"name": "kube-proxy", "env": [{"name": "NODE_NAME", "value": "y"}]}]}
    )
    assert _containers(_patch(_kube_proxy(), body))[0]["env"] == [
        {"name": "NODE_NAME", "value": "y"}
    ]


def test_a_container_is_deleted_with_a_delete_directive() -> None:
    body = _template_patch({"containers": [{"name": "metrics-proxy", "$patch": "delete"}]})
    containers = _containers(_patch(_kube_proxy(), body))
    assert [c["name"] for c in containers] == ["kube-proxy"]


def test_a_new_container_goes_after_the_existing_ones() -> None:
    body = _template_patch({"containers": [{"name": "debug", "image": "busybox"}]})
    names = [c["name"] for c in _containers(_patch(_kube_proxy(), body))]
    assert names == ["kube-proxy", "metrics-proxy", "debug"]


def test_kube_proxy_rollback_replaces_the_whole_template() -> None:
    # `kubectl rollout undo daemonset/kube-proxy` sends the ControllerRevision's data.
    revision_template = {
        "$patch": "replace",
        "metadata": {"labels": {"k8s-app": "kube-proxy"}},
        "spec": {"containers": [{"name": "kube-proxy", "image": "kube-proxy:v1.29.6"}]},
    }
    patched = _patch(_kube_proxy(), {"spec": {"template": revision_template}})
    assert patched["spec"]["template"] == {
        "metadata": {"labels": {"k8s-app": "kube-proxy"}},
        "spec": {"containers": [{"name": "kube-proxy", "image": "kube-proxy:v1.29.6"}]},
    }
    assert patched["spec"]["updateStrategy"] == _kube_proxy()["spec"]["updateStrategy"]


def test_a_replace_directive_in_a_list_replaces_the_list() -> None:
    body = _template_patch(
        {
            "containers": [
                {"name": "kube-proxy", "env": [{"$patch": "replace"}, {"name": "A", "value": "1"}]}
            ]
        }
    )
    assert _containers(_patch(_kube_proxy(), body))[0]["env"] == [{"name": "A", "value": "1"}]


def test_a_restart_annotation_merges_into_the_template() -> None:
    # `kubectl rollout restart` patches only this annotation.
    stamp = {"kubectl.kubernetes.io/restartedAt": "2024-06-01T00:00:00Z"}
    patched = _patch(_kube_proxy(), {"spec": {"template": {"metadata": {"annotations": stamp}}}})
    assert patched["spec"]["template"]["metadata"]["annotations"] == stamp
    assert patched["spec"]["template"]["spec"] == _kube_proxy()["spec"]["template"]["spec"]


def test_null_removes_a_map_key() -> None:
    patched = _patch(_kube_proxy(), {"spec": {"updateStrategy": {"rollingUpdate": None}}})
    assert patched["spec"]["updateStrategy"] == {"type": "RollingUpdate"}


def test_lists_without_a_merge_key_are_replaced() -> None:
    body = _template_patch({"tolerations": [{"key": "node-role", "effect": "NoSchedule"}]})
    tolerations = _patch(_kube_proxy(), body)["spec"]["template"]["spec"]["tolerations"]
    assert tolerations == [{"key": "node-role", "effect": "NoSchedule"}]


def test_container_ports_merge_by_container_port_and_mounts_by_mount_path() -> None:
    container = {
        "name": "kube-proxy",
        "ports": [{"containerPort": 10256, "name": "healthz"}],
        "volumeMounts": [{"name": "lock", "mountPath": "/run/xtables.lock", "readOnly": True}],
    }
    patched = _containers(_patch(_kube_proxy(), _template_patch({"containers": [container]})))[0]
    assert [p["containerPort"] for p in patched["ports"]] == [10249, 10256]
    assert patched["volumeMounts"] == [
        {"name": "kube-proxy", "mountPath": "/var/lib/kube-proxy"},
        {"name": "lock", "mountPath": "/run/xtables.lock", "readOnly": True},
    ]


def test_retain_keys_switches_the_update_strategy_cleanly() -> None:
    body = {"spec": {"updateStrategy": {"$retainKeys": ["type"], "type": "OnDelete"}}}
    assert _patch(_kube_proxy(), body)["spec"]["updateStrategy"] == {"type": "OnDelete"}


def test_set_element_order_reorders_the_containers() -> None:
    body = _template_patch(
        {"$setElementOrder/containers": [{"name": "metrics-proxy"}, {"name": "kube-proxy"}]}
    )
    names = [c["name"] for c in _containers(_patch(_kube_proxy(), body))]
    assert names == ["metrics-proxy", "kube-proxy"]


def test_finalizers_merge_as_a_set_and_delete_from_the_primitive_list() -> None:
    added = _patch(_kube_proxy(), {"metadata": {"finalizers": ["example.com/audit", "b"]}})
    assert added["metadata"]["finalizers"] == ["example.com/audit", "b"]
    body = {"metadata": {"$deleteFromPrimitiveList/finalizers": ["example.com/audit"]}}
    assert _patch(added, body)["metadata"]["finalizers"] == ["b"]


def _service() -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "web", "namespace": "shop", "uid": "s-1", "resourceVersion": "5"},
        "spec": {
            "selector": {"app": "web"},
            "ports": [
                {"name": "http", "port": 80, "targetPort": 8080, "protocol": "TCP"},
                {"name": "https", "port": 443, "targetPort": 8443, "protocol": "TCP"},
            ],
        },
    }


def test_service_ports_merge_by_port() -> None:
    patched = _patch(_service(), {"spec": {"ports": [{"port": 80, "targetPort": 9090}]}})
    assert patched["spec"]["ports"] == [
        {"name": "http", "port": 80, "targetPort": 9090, "protocol": "TCP"},
        {"name": "https", "port": 443, "targetPort": 8443, "protocol": "TCP"},
    ]


def test_a_service_port_is_added_and_another_deleted() -> None:
    body = {"spec": {"ports": [{"port": 443, "$patch": "delete"}, {"name": "m", "port": 9100}]}}
    assert [p["port"] for p in _patch(_service(), body)["spec"]["ports"]] == [80, 9100]


def test_pod_conditions_merge_by_type() -> None:
    pod = {
        "status": {
            "conditions": [
                {"type": "Ready", "status": "True"},
                {"type": "PodScheduled", "status": "True"},
            ]
        }
    }
    patched = strategic_merge(
        pod, {"status": {"conditions": [{"type": "Ready", "status": "False"}]}}
    )
    assert patched["status"]["conditions"] == [
        {"type": "Ready", "status": "False"},
        {"type": "PodScheduled", "status": "True"},
    ]


def test_a_list_item_without_its_merge_key_is_an_internal_error() -> None:
    body = _template_patch({"containers": [{"image": "nginx"}]})
    with pytest.raises(InternalError) as caught:
        _patch(_kube_proxy(), body)
    assert caught.value.message == (
        "Internal error occurred: map: map[image:nginx] does not contain declared merge key: name"
    )


def test_an_unknown_patch_directive_is_an_internal_error() -> None:
    with pytest.raises(InternalError, match="unknown patch type: merge in map"):
        _patch(_kube_proxy(), {"spec": {"template": {"$patch": "merge"}}})


@pytest.mark.parametrize(
    "body",
    [
        {"spec": {"updateStrategy": {"$retainKeys": "type"}}},
        {"spec": {"updateStrategy": {"$retainKeys": ["type"], "rollingUpdate": {}}}},
        {"metadata": {"$deleteFromPrimitiveList/finalizers": "a"}},
        {"spec": {"template": {"spec": {"$setElementOrder/containers": "kube-proxy"}}}},
    ],
    ids=["retainKeys not a list", "key outside retainKeys", "delete list", "order list"],
)
def test_a_malformed_directive_is_a_bad_request(body: dict[str, Any]) -> None:
    with pytest.raises(BadRequestError):
        _patch(_kube_proxy(), body)


@pytest.mark.parametrize(
    ("path", "merge_key"),
    [
        (("spec", "template", "spec", "containers"), "name"),
        (("spec", "jobTemplate", "spec", "template", "spec", "initContainers"), "name"),
        (("spec", "template", "spec", "containers", "ports"), "containerPort"),
        (("spec", "containers", "env"), "name"),
        (("spec", "containers", "envFrom"), None),
        (("spec", "containers", "volumeMounts"), "mountPath"),
        (("spec", "template", "spec", "volumes"), "name"),
        (("spec", "imagePullSecrets"), "name"),
        (("spec", "tolerations"), None),
        (("spec", "ports"), "port"),
        (("ports",), None),
        (("subsets", "ports"), None),
        (("status", "conditions"), "type"),
        (("metadata", "ownerReferences"), "uid"),
        (("metadata", "finalizers"), ""),
        (("spec", "finalizers"), None),
        (("status", "addresses"), "type"),
        (("subsets", "addresses"), None),
    ],
)
def test_merge_keys_follow_the_kubernetes_types(
    path: tuple[str, ...], merge_key: str | None
) -> None:
    assert merge_key_for(path) == merge_key


def _list_strategies(
    schema: dict[str, Any], path: tuple[str, ...], depth: int = 0
) -> Iterator[tuple[tuple[str, ...], str | None, str]]:
    """Every list and every map with a patch strategy below ``schema``: (path, its merge key
    by the schema, the strategy as declared)."""
    if depth > 20:
        return
    for field, prop in (resolve(schema).get("properties") or {}).items():
        at = (*path, field)
        strategy = str(prop.get("x-kubernetes-patch-strategy") or "")
        if prop.get("type") == "array":
            merges = "merge" in strategy.split(",")
            yield at, prop.get("x-kubernetes-patch-merge-key", "") if merges else None, strategy
            yield from _list_strategies(prop.get("items") or {}, at, depth + 1)
        else:
            if strategy == "replace":
                yield at, None, strategy
            yield from _list_strategies(prop, at, depth + 1)


BUILT_IN_KINDS = [rt for rt in resources.ALL if not rt.custom and "patch" in rt.verbs]


@pytest.mark.parametrize("rt", BUILT_IN_KINDS, ids=[rt.kind for rt in BUILT_IN_KINDS])
def test_every_served_kind_merges_as_its_kubernetes_1_30_schema_declares(
    rt: resources.ResourceType,
) -> None:
    disagreements = []
    for path, merge_key, strategy in _list_strategies(definitions()[schema_name(rt)], ()):
        if strategy == "replace":
            stored = {"kind": rt.kind, **_nested(path, {"old": "1"})}
            if _at(strategic_merge(stored, _nested(path, {"new": "2"})), path) != {"new": "2"}:
                disagreements.append(f"{'.'.join(path)} is not replaced")
        # Claim statuses are written by the scheduler, never patched by a client here.
        elif path[-2:] != ("status", "resourceClaimStatuses") and (
            merge_key_for(path, kind=rt.kind) != merge_key
        ):
            disagreements.append(f"{'.'.join(path)} merges by {merge_key!r}")

    assert disagreements == []


def _nested(path: tuple[str, ...], leaf: Any) -> dict[str, Any]:
    for field in reversed(path):
        leaf = {field: leaf}
    return dict(leaf)


def _at(obj: Any, path: tuple[str, ...]) -> Any:
    for field in path:
        obj = obj[field]
    return obj


@pytest.mark.parametrize(
    ("stored", "patch", "expected"),
    [
        (
            # volumeClaimTemplates have no strategy: the patch's list replaces them whole.
            {
                "kind": "StatefulSet",
                "spec": {
                    "volumeClaimTemplates": [
                        {
                            "metadata": {"name": "data"},
                            "spec": {"resources": {"requests": {"storage": "10Gi"}}},
                        },
                        {"metadata": {"name": "wal"}},
                    ]
                },
            },
            {"spec": {"volumeClaimTemplates": [{"metadata": {"name": "data"}}]}},
            {
                "kind": "StatefulSet",
                "spec": {"volumeClaimTemplates": [{"metadata": {"name": "data"}}]},
            },
        ),
        (
            {"kind": "ClusterRole", "rules": [{"verbs": ["get"]}, {"verbs": ["list"]}]},
            {"rules": [{"verbs": ["watch"]}]},
            {"kind": "ClusterRole", "rules": [{"verbs": ["watch"]}]},
        ),
        (
            # patchStrategy "replace": a label left out of the new selector is gone.
            {
                "kind": "PodDisruptionBudget",
                "spec": {"selector": {"matchLabels": {"a": "1", "b": "2"}}},
            },
            {"spec": {"selector": {"matchLabels": {"a": "1"}}}},
            {"kind": "PodDisruptionBudget", "spec": {"selector": {"matchLabels": {"a": "1"}}}},
        ),
        (
            {"kind": "ServiceAccount", "secrets": [{"name": "token-a"}]},
            {"secrets": [{"name": "token-b"}]},
            {"kind": "ServiceAccount", "secrets": [{"name": "token-a"}, {"name": "token-b"}]},
        ),
        (
            {"kind": "ServiceAccount", "imagePullSecrets": [{"name": "registry-a"}]},
            {"imagePullSecrets": [{"name": "registry-b"}]},
            {"kind": "ServiceAccount", "imagePullSecrets": [{"name": "registry-b"}]},
        ),
    ],
    ids=[
        "statefulset-claims",
        "clusterrole-rules",
        "pdb-selector",
        "serviceaccount-secrets",
        "serviceaccount-pull-secrets",
    ],
)
def test_kinds_the_overlays_apply_patch_as_kubernetes_does(
    stored: dict[str, Any], patch: dict[str, Any], expected: dict[str, Any]
) -> None:
    assert strategic_merge(stored, patch) == expected
