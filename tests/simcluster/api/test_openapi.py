"""``/openapi/v3`` serves Kubernetes 1.30's schemas for the served kinds, as kubectl reads them."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from simcluster import resources
from simcluster.api.openapi import openapi_v3
from simcluster.api.openapi_schemas import REFERENCE_PREFIX, VENDORED_FILE, definitions
from simcluster.server import SimServer
from tests.simcluster.openapi_vendoring import render, upstream_definitions, vendored_definitions

ENGINE = {"Authorization": "Bearer sim-engine-token"}
GROUP_VERSIONS = [
    f"apis/{group}/{version}" if group else f"api/{version}"
    for group, version in resources.group_versions()
]


def document(key: str) -> dict[str, Any]:
    found = openapi_v3().document(key)
    assert found is not None
    parsed: dict[str, Any] = json.loads(found[0])
    return parsed


def test_the_vendored_schemas_are_kubernetes_1_30s_for_every_served_kind() -> None:
    expected = render(vendored_definitions(upstream_definitions()))

    assert VENDORED_FILE.read_text(encoding="utf-8") == expected, (
        "regenerate: uv run --frozen python -m tests.simcluster.openapi_vendoring"
    )


def test_the_index_links_every_group_version_by_its_content_hash(server: SimServer) -> None:
    index = httpx.get(server.url + "/openapi/v3", headers=ENGINE).json()["paths"]

    assert sorted(index) == sorted(GROUP_VERSIONS)
    url = index["apis/apps/v1"]["serverRelativeURL"]
    answer = httpx.get(server.url + url, headers=ENGINE)
    assert answer.status_code == 200
    assert answer.headers["cache-control"] == "public, immutable"
    assert answer.json()["paths"]["/apis/apps/v1/namespaces/{namespace}/statefulsets/{name}"]


@pytest.mark.parametrize(
    ("path", "headers", "status"),
    [
        ("/openapi/v3", {}, 401),
        ("/openapi/v3/apis/batch/v1", ENGINE, 404),
        ("/openapi/v2", ENGINE, 404),
        ("/openapi/v3/api/v1", ENGINE, 200),
    ],
    ids=["anonymous", "unserved-group", "v2", "core"],
)
def test_any_authenticated_user_reads_the_served_documents(
    server: SimServer, path: str, headers: dict[str, str], status: int
) -> None:
    assert httpx.get(server.url + path, headers=headers).status_code == status


PATCHABLE = [rt for rt in resources.ALL if "patch" in rt.verbs]


@pytest.mark.parametrize("rt", PATCHABLE, ids=[rt.key for rt in PATCHABLE])
def test_every_patch_takes_field_validation_and_the_patch_types_served(
    rt: resources.ResourceType,
) -> None:
    """What kubectl looks for: server-side validation, and whether to send a strategic patch."""
    key = f"apis/{rt.group}/{rt.version}" if rt.group else f"api/{rt.version}"
    scope = "/namespaces/{namespace}" if rt.namespaced else ""
    prefix = f"/{key}{scope}/{rt.plural}/{{name}}"
    patch = document(key)["paths"][prefix]["patch"]

    assert patch["x-kubernetes-group-version-kind"]["kind"] == rt.kind
    assert "fieldValidation" in [p["name"] for p in patch["parameters"]]
    strategic = "application/strategic-merge-patch+json" in patch["requestBody"]["content"]
    assert strategic is not rt.custom


@pytest.mark.parametrize("key", GROUP_VERSIONS)
def test_each_document_holds_every_schema_it_refers_to_in_openapi_form(key: str) -> None:
    body = document(key)
    schemas = body["components"]["schemas"]
    text = json.dumps(body)

    referred = {part.split('"', 1)[0] for part in text.split('"$ref": "' + REFERENCE_PREFIX)[1:]}
    assert referred <= set(schemas)
    assert '"null"' not in text
    assert "#/$defs/" not in text


def test_kinds_carry_the_patch_strategies_kubectl_merges_by() -> None:
    spec = definitions()["io.k8s.api.core.v1.PodSpec"]["properties"]
    selector = definitions()["io.k8s.api.policy.v1.PodDisruptionBudgetSpec"]["properties"]

    assert spec["containers"]["x-kubernetes-patch-merge-key"] == "name"
    assert selector["selector"]["x-kubernetes-patch-strategy"] == "replace"
    assert definitions()["io.k8s.apimachinery.pkg.util.intstr.IntOrString"] == {
        "type": "string",
        "format": "int-or-string",
    }
