"""Unit tests of `flows.manifests`: objects as manifests that can be applied again."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml

from flows.manifests import SERVER_FIELDS, manifest_list, restorable


def service(name: str = "web") -> dict[str, Any]:
    """A Service as the API server returns it: server-owned metadata and a status."""
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {
            "name": name,
            "namespace": "shop",
            "labels": {"app": name},
            "annotations": {"team": "payments"},
            "uid": "0b5c6d1e-1111-2222-3333-444455556666",
            "resourceVersion": "48213",
            "generation": 3,
            "creationTimestamp": "2024-05-01T06:00:00Z",
            "managedFields": [{"manager": "kubectl", "operation": "Apply"}],
            "selfLink": f"/api/v1/namespaces/shop/services/{name}",
        },
        "spec": {"selector": {"app": name}, "ports": [{"port": 80, "targetPort": 8080}]},
        "status": {"loadBalancer": {}},
    }


def test_the_server_fields_are_the_ones_the_api_server_owns() -> None:
    assert (
        frozenset(
            {
                "uid",
                "resourceVersion",
                "generation",
                "creationTimestamp",
                "managedFields",
                "selfLink",
            }
        )
        == SERVER_FIELDS
    )


@pytest.mark.parametrize("server_field", sorted(SERVER_FIELDS))
def test_each_server_owned_metadata_field_is_dropped(server_field: str) -> None:
    assert server_field in service()["metadata"]

    assert server_field not in restorable(service())["metadata"]


def test_the_status_is_dropped() -> None:
    assert "status" not in restorable(service())


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        pytest.param(("apiVersion",), "v1", id="apiVersion"),
        pytest.param(("kind",), "Service", id="kind"),
        pytest.param(("metadata", "name"), "web", id="name"),
        pytest.param(("metadata", "namespace"), "shop", id="namespace"),
        pytest.param(("metadata", "labels"), {"app": "web"}, id="labels"),
        pytest.param(("metadata", "annotations"), {"team": "payments"}, id="annotations"),
        pytest.param(
            ("spec",),
            {"selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": 8080}]},
            id="spec",
        ),
    ],
)
def test_what_a_user_wrote_is_kept(path: tuple[str, ...], expected: Any) -> None:
    value: Any = restorable(service())
    for key in path:
        value = value[key]

    assert value == expected


def test_restorable_leaves_exactly_the_user_owned_metadata() -> None:
    assert restorable(service())["metadata"] == {
        "name": "web",
        "namespace": "shop",
        "labels": {"app": "web"},
        "annotations": {"team": "payments"},
    }


def test_the_input_object_is_not_mutated() -> None:
    obj = service()
    before = copy.deepcopy(obj)

    restorable(obj)
    manifest_list([obj])

    assert obj == before


def test_an_object_without_metadata_gets_an_empty_metadata() -> None:
    assert restorable({"apiVersion": "v1", "kind": "ConfigMap", "data": {"a": "1"}}) == {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "data": {"a": "1"},
        "metadata": {},
    }


@pytest.mark.parametrize(
    "names",
    [
        pytest.param([], id="no objects"),
        pytest.param(["web"], id="one object"),
        pytest.param(["web", "api", "cart"], id="several objects in their order"),
    ],
)
def test_manifest_list_is_a_v1_list_of_the_restorable_objects_in_order(names: list[str]) -> None:
    document = yaml.safe_load(manifest_list(service(name) for name in names))

    assert document["apiVersion"] == "v1"
    assert document["kind"] == "List"
    assert [item["metadata"]["name"] for item in document["items"]] == names
    assert document["items"] == [restorable(service(name)) for name in names]


def test_manifest_list_starts_with_api_version_and_kind_as_kubectl_writes_them() -> None:
    assert manifest_list([service()]).startswith("apiVersion: v1\nkind: List\nitems:\n")
