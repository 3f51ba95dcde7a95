"""Request bodies and selectors: patches, delete preconditions, label selectors."""

from __future__ import annotations

import pytest

from integrations.kubernetes.bodies import (
    JsonPatch,
    JsonPatchOperation,
    StrategicMergePatch,
    delete_options,
    patch_body,
    patch_content_type,
)
from integrations.kubernetes.selectors import (
    LabelSelector,
    involved_object_selector,
    label_selector_text,
)

IMAGE_PATH = "/spec/template/spec/containers/0/image"


def test_strategic_merge_patches_are_sent_as_such() -> None:
    patch = StrategicMergePatch({"spec": {"updateStrategy": {"type": "OnDelete"}}})

    assert patch_content_type(patch) == "application/strategic-merge-patch+json"
    assert patch_body(patch) == {"spec": {"updateStrategy": {"type": "OnDelete"}}}


def test_json_patches_are_sent_as_operation_lists() -> None:
    patch = JsonPatch(
        (
            JsonPatchOperation("test", IMAGE_PATH, "registry.k8s.io/kube-proxy:v1.30.3"),
            JsonPatchOperation("replace", IMAGE_PATH, "registry.k8s.io/kube-proxy:v1.30.2"),
            JsonPatchOperation("remove", "/metadata/annotations/x"),
        )
    )

    assert patch_content_type(patch) == "application/json-patch+json"
    assert patch_body(patch) == [
        {"op": "test", "path": IMAGE_PATH, "value": "registry.k8s.io/kube-proxy:v1.30.3"},
        {"op": "replace", "path": IMAGE_PATH, "value": "registry.k8s.io/kube-proxy:v1.30.2"},
        {"op": "remove", "path": "/metadata/annotations/x"},
    ]


@pytest.mark.parametrize(
    ("uid", "resource_version", "body"),
    [
        (None, None, None),
        ("u-1", None, {"preconditions": {"uid": "u-1"}}),
        (None, "42", {"preconditions": {"resourceVersion": "42"}}),
        ("u-1", "42", {"preconditions": {"uid": "u-1", "resourceVersion": "42"}}),
    ],
)
def test_delete_preconditions(
    uid: str | None, resource_version: str | None, body: dict[str, dict[str, str]] | None
) -> None:
    assert delete_options(uid=uid, resource_version=resource_version) == body


@pytest.mark.parametrize(
    ("selector", "text"),
    [
        (None, None),
        ("", None),
        ("k8s-app=kube-proxy", "k8s-app=kube-proxy"),
        ({"tier": "web", "app": "checkout"}, "app=checkout,tier=web"),
        ({}, None),
    ],
)
def test_label_selectors_from_text_or_pairs(selector: LabelSelector, text: str | None) -> None:
    assert label_selector_text(selector) == text


def test_event_selector_names_the_involved_object() -> None:
    assert involved_object_selector(kind="Pod", name="kube-proxy-abcde", uid="u-1") == (
        "involvedObject.kind=Pod,involvedObject.name=kube-proxy-abcde,involvedObject.uid=u-1"
    )
    assert involved_object_selector(kind="Service", name="checkout") == (
        "involvedObject.kind=Service,involvedObject.name=checkout"
    )
