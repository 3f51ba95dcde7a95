"""PATCH bodies as the apiserver applies them: media types, merge patch, JSON patch, identity."""

from __future__ import annotations

import copy
from typing import Any

import orjson
import pytest

from simcluster.errors import (
    ApiError,
    BadRequestError,
    ConflictError,
    InvalidError,
    UnsupportedMediaTypeError,
)
from simcluster.patching import REJECTED_MESSAGE, PatchType, apply_patch, merge_patch

MERGE = "application/merge-patch+json"
JSON = "application/json-patch+json"
STRATEGIC = "application/strategic-merge-patch+json"


def _config_map() -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": "kube-proxy",
            "namespace": "kube-system",
            "uid": "0b7c1f4e-1111-4c2a-9d7e-000000000001",
            "resourceVersion": "42",
            "creationTimestamp": "2024-05-01T10:00:00Z",
            "labels": {"app": "kube-proxy", "tier": "node"},
        },
        "data": {"config.conf": "mode: iptables", "kubeconfig.conf": "apiVersion: v1"},
    }


def _deployment() -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": "web",
            "namespace": "shop",
            "uid": "d-1",
            "resourceVersion": "7",
            "generation": 3,
            "creationTimestamp": "2024-05-01T10:00:00Z",
            "annotations": {"deployment.kubernetes.io/revision": "3"},
        },
        "spec": {
            "replicas": 2,
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "web", "image": "web:3"}]},
            },
        },
    }


def _patch(obj: dict[str, Any], patch: Any, content_type: str) -> dict[str, Any]:
    return apply_patch(obj, orjson.dumps(patch), content_type)


# RFC 7386 appendix A: (target, patch, result)
RFC7386_EXAMPLES: list[tuple[Any, Any, Any]] = [
    ({"a": "b"}, {"a": "c"}, {"a": "c"}),
    ({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}),
    ({"a": "b"}, {"a": None}, {}),
    ({"a": "b", "b": "c"}, {"a": None}, {"b": "c"}),
    ({"a": ["b"]}, {"a": "c"}, {"a": "c"}),
    ({"a": "c"}, {"a": ["b"]}, {"a": ["b"]}),
    ({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}),
    ({"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}),
    (["a", "b"], ["c", "d"], ["c", "d"]),
    ({"a": "b"}, ["c"], ["c"]),
    ({"a": "foo"}, None, None),
    ({"a": "foo"}, "bar", "bar"),
    ({"e": None}, {"a": 1}, {"e": None, "a": 1}),
    ([1, 2], {"a": "b", "c": None}, {"a": "b"}),
    ({}, {"a": {"bb": {"ccc": None}}}, {"a": {"bb": {}}}),
    (
        {
            "title": "Goodbye!",
            "author": {"givenName": "John", "familyName": "Doe"},
            "tags": ["example", "sample"],
            "content": "This will be unchanged",
        },
        {
            "title": "Hello!",
            "phoneNumber": "+01-123-456-7890",
            "author": {"familyName": None},
            "tags": ["example"],
        },
        {
            "title": "Hello!",
            "author": {"givenName": "John"},
            "tags": ["example"],
            "content": "This will be unchanged",
            "phoneNumber": "+01-123-456-7890",
        },
    ),
]


@pytest.mark.parametrize(("target", "patch", "expected"), RFC7386_EXAMPLES)
def test_rfc7386_example_merges(target: Any, patch: Any, expected: Any) -> None:
    original = copy.deepcopy(target)
    assert merge_patch(target, patch) == expected
    assert target == original


def test_merge_patch_changes_data_and_drops_a_label() -> None:
    patched = _patch(
        _config_map(),
        {"metadata": {"labels": {"tier": None}}, "data": {"config.conf": "mode: ipvs"}},
        MERGE,
    )
    assert patched["metadata"]["labels"] == {"app": "kube-proxy"}
    assert patched["data"] == {"config.conf": "mode: ipvs", "kubeconfig.conf": "apiVersion: v1"}


def test_merge_patch_replaces_lists_whole() -> None:
    patched = _patch(
        _deployment(),
        {"spec": {"template": {"spec": {"containers": [{"name": "side", "image": "s:1"}]}}}},
        MERGE,
    )
    assert patched["spec"]["template"]["spec"]["containers"] == [{"name": "side", "image": "s:1"}]


def test_the_stored_object_is_never_changed() -> None:
    stored = _deployment()
    before = copy.deepcopy(stored)
    for body, content_type in [
        ({"spec": {"replicas": 5}}, MERGE),
        ([{"op": "replace", "path": "/spec/replicas", "value": 5}], JSON),
        (
            {"spec": {"template": {"spec": {"containers": [{"name": "web", "image": "x"}]}}}},
            STRATEGIC,
        ),
    ]:
        _patch(stored, body, content_type)
    assert stored == before


def test_rollout_undo_of_a_deployment_replaces_template_and_annotations() -> None:
    # `kubectl rollout undo deployment` sends exactly this JSON patch.
    template = {
        "metadata": {"labels": {"app": "web"}},
        "spec": {"containers": [{"name": "web", "image": "web:2"}]},
    }
    annotations = {"deployment.kubernetes.io/revision": "2"}
    patched = _patch(
        _deployment(),
        [
            {"op": "replace", "path": "/spec/template", "value": template},
            {"op": "replace", "path": "/metadata/annotations", "value": annotations},
        ],
        JSON,
    )
    assert patched["spec"]["template"] == template
    assert patched["metadata"]["annotations"] == annotations


def test_a_json_patch_test_guards_an_update() -> None:
    patch = [
        {"op": "test", "path": "/metadata/labels/app", "value": "kube-proxy"},
        {"op": "add", "path": "/metadata/labels/paused", "value": "true"},
    ]
    patched = _patch(_config_map(), patch, JSON)
    assert patched["metadata"]["labels"]["paused"] == "true"


@pytest.mark.parametrize(
    "operations",
    [
        [{"op": "test", "path": "/data/config.conf", "value": "mode: ipvs"}],
        [{"op": "remove", "path": "/spec/affinity"}],
        [{"op": "replace", "path": "/metadata/labels/missing", "value": "x"}],
        [{"op": "explode", "path": "/data"}],
    ],
    ids=["failed test", "missing path", "replace of a missing key", "unknown op"],
)
def test_a_json_patch_that_does_not_apply_is_a_generic_422(operations: list[Any]) -> None:
    with pytest.raises(InvalidError) as caught:
        _patch(_config_map(), operations, JSON)
    status = caught.value.to_status()
    assert (status["code"], status["reason"]) == (422, "Invalid")
    assert status["message"] == REJECTED_MESSAGE


@pytest.mark.parametrize(
    ("content_type", "body", "message"),
    [
        (
            JSON,
            b'{"op": "add"}',
            "json: cannot unmarshal object into Go value of type jsonpatch.Patch",
        ),
        (
            JSON,
            b'["add"]',
            "json: cannot unmarshal string into Go value of type jsonpatch.Operation",
        ),
        (JSON, b"", "unexpected end of JSON input"),
        (MERGE, b"{not json", "Invalid JSON Patch"),
        (MERGE, b"null", "Invalid JSON Patch"),
        (MERGE, b"7", "Invalid JSON Patch"),
        (
            STRATEGIC,
            b"[1]",
            "json: cannot unmarshal array into Go value of type map[string]interface {}",
        ),
    ],
)
def test_an_undecodable_body_is_a_bad_request(content_type: str, body: bytes, message: str) -> None:
    with pytest.raises(BadRequestError) as caught:
        apply_patch(_config_map(), body, content_type)
    assert caught.value.code == 400
    assert caught.value.message == message


def test_malformed_json_is_a_bad_request_for_every_patch_type() -> None:
    for content_type in (JSON, MERGE, STRATEGIC):
        with pytest.raises(BadRequestError):
            apply_patch(_config_map(), b'{"data": ', content_type)


def test_a_merge_patch_that_turns_the_object_into_a_list_is_invalid() -> None:
    with pytest.raises(InvalidError) as caught:
        _patch(_config_map(), ["c"], MERGE)
    assert caught.value.details["causes"][0]["field"] == "patch"


@pytest.mark.parametrize(
    "content_type",
    ["application/json", "application/apply-patch+yaml", "Application/Merge-Patch+JSON", ""],
)
def test_other_media_types_are_refused_with_415(content_type: str) -> None:
    with pytest.raises(UnsupportedMediaTypeError) as caught:
        apply_patch(_config_map(), b"{}", content_type)
    status = caught.value.to_status()
    assert (status["code"], status["reason"]) == (415, "UnsupportedMediaType")
    assert status["message"] == (
        "the body of the request was in an unknown format - accepted media types include: "
        "application/json-patch+json, application/merge-patch+json, "
        "application/strategic-merge-patch+json"
    )


def test_a_charset_parameter_is_ignored() -> None:
    patched = apply_patch(_config_map(), b'{"data": {"a": "b"}}', f"{MERGE}; charset=utf-8")
    assert patched["data"]["a"] == "b"
    assert [t.value for t in PatchType] == [JSON, MERGE, STRATEGIC]


@pytest.mark.parametrize(
    ("metadata_patch", "error", "message"),
    [
        (
            {"name": "other"},
            BadRequestError,
            "the name of the object (other) does not match the name on the URL (kube-proxy)",
        ),
        (
            {"name": None},
            BadRequestError,
            "the name of the object () does not match the name on the URL (kube-proxy)",
        ),
        (
            {"namespace": "default"},
            BadRequestError,
            "the namespace of the provided object does not match the namespace sent on the request",
        ),
        (
            {"resourceVersion": "41"},
            ConflictError,
            'Operation cannot be fulfilled on configmaps "kube-proxy": the object has been '
            "modified; please apply your changes to the latest version and try again",
        ),
        (
            {"uid": "someone-else"},
            InvalidError,
            'ConfigMap "kube-proxy" is invalid: metadata.uid: Invalid value: "someone-else": '
            "field is immutable",
        ),
    ],
)
def test_identity_changes_are_refused_like_the_apiserver_does(
    metadata_patch: dict[str, Any], error: type[ApiError], message: str
) -> None:
    with pytest.raises(error) as caught:
        _patch(_config_map(), {"metadata": metadata_patch}, MERGE)
    assert caught.value.message == message


def test_the_current_resource_version_makes_a_conditional_patch_succeed() -> None:
    patched = _patch(_config_map(), {"metadata": {"resourceVersion": "42"}, "data": None}, MERGE)
    assert "data" not in patched


def test_system_fields_a_patch_drops_or_changes_are_kept() -> None:
    patch = [
        {"op": "remove", "path": "/metadata/namespace"},
        {"op": "remove", "path": "/metadata/uid"},
        {"op": "remove", "path": "/metadata/resourceVersion"},
        {"op": "replace", "path": "/metadata/creationTimestamp", "value": "1999-01-01T00:00:00Z"},
        {"op": "replace", "path": "/metadata/generation", "value": 99},
    ]
    patched = _patch(_deployment(), patch, JSON)
    assert patched["metadata"] == _deployment()["metadata"]


def test_a_namespace_on_a_cluster_scoped_object_is_dropped() -> None:
    node = {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1", "resourceVersion": "1"}}
    patched = _patch(node, {"metadata": {"namespace": "x", "labels": {"a": "b"}}}, MERGE)
    assert patched["metadata"] == {"name": "n1", "resourceVersion": "1", "labels": {"a": "b"}}
