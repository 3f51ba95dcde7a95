"""The OpenAPI v3 documents of ``/openapi/v3``: one per served group version, and their index.

kubectl reads them twice over. Before it writes, it asks whether a kind's PATCH takes the
``fieldValidation`` parameter: it does, so kubectl leaves validation to the server (which
rejects unknown fields, `simcluster.api.field_validation`) instead of downloading the
protobuf ``/openapi/v2`` document for client-side validation. And ``kubectl apply`` builds its
strategic merge patch from the kind's schema, where the PATCH operation accepts that patch
type (built-in kinds; custom resources take JSON and merge patches only, as with a CRD).

The paths name each served operation with the extensions clients match on
(``x-kubernetes-action``, ``x-kubernetes-group-version-kind``); the schemas are Kubernetes
1.30's (`simcluster.api.openapi_schemas`). ``/openapi/v2`` is not served.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterator, Mapping
from typing import Any

import orjson

from simcluster import resources
from simcluster.api.discovery import GIT_VERSION
from simcluster.api.openapi_schemas import REFERENCE_PREFIX, components, schema_name
from simcluster.resources import ResourceType

Obj = dict[str, Any]

_JSON = "application/json"
_PATCH_TYPES = (
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
)
_PATCH_SCHEMA = {"$ref": REFERENCE_PREFIX + "io.k8s.apimachinery.pkg.apis.meta.v1.Patch"}
_STATUS_SCHEMA = {"$ref": REFERENCE_PREFIX + "io.k8s.apimachinery.pkg.apis.meta.v1.Status"}
_DELETE_OPTIONS = {"$ref": REFERENCE_PREFIX + "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions"}


def _query(name: str, type_: str = "string") -> Obj:
    return {"name": name, "in": "query", "schema": {"type": type_, "uniqueItems": True}}


def _path_parameter(name: str) -> Obj:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}


_WRITE_PARAMETERS = [_query("dryRun"), _query("fieldManager"), _query("fieldValidation")]
_LIST_PARAMETERS = [
    _query(name) for name in ("continue", "fieldSelector", "labelSelector", "resourceVersion")
] + [_query("limit", "integer"), _query("watch", "boolean")]
_DELETE_PARAMETERS = [
    _query("dryRun"),
    _query("gracePeriodSeconds", "integer"),
    _query("propagationPolicy"),
]


class OpenApiV3:
    """The serialized documents, built once: the index and one document per group version."""

    def __init__(self) -> None:
        self._documents: dict[str, bytes] = {}
        self._hashes: dict[str, str] = {}
        for group, version in resources.group_versions():
            served = [rt for rt in resources.ALL if (rt.group, rt.version) == (group, version)]
            key = f"apis/{group}/{version}" if group else f"api/{version}"
            body = orjson.dumps(group_version_document(served), option=orjson.OPT_SORT_KEYS)
            self._documents[key] = body
            # The apiserver's content hash: clients cache a document by its hashed URL.
            self._hashes[key] = hashlib.sha512(body).hexdigest().upper()
        self.index = orjson.dumps(
            {
                "paths": {
                    key: {"serverRelativeURL": f"/openapi/v3/{key}?hash={digest}"}
                    for key, digest in self._hashes.items()
                }
            }
        )

    def document(self, key: str) -> tuple[bytes, str] | None:
        """A group version's document and its hash, by ``api/v1`` or ``apis/{group}/{version}``."""
        if key not in self._documents:
            return None
        return self._documents[key], self._hashes[key]


@functools.cache
def openapi_v3() -> OpenApiV3:
    """The documents of the served kinds (they never change: built on first use, then kept)."""
    return OpenApiV3()


def group_version_document(served: list[ResourceType]) -> Obj:
    """The OpenAPI v3 document of one group version's resources."""
    paths: Obj = {}
    for rt in served:
        paths.update(_paths(rt))
    return {
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": GIT_VERSION},
        "paths": paths,
        "components": {"schemas": components(served)},
    }


def _paths(rt: ResourceType) -> Iterator[tuple[str, Obj]]:
    prefix = f"/apis/{rt.group}/{rt.version}" if rt.group else f"/api/{rt.version}"
    scope = f"{prefix}/namespaces/{{namespace}}" if rt.namespaced else prefix
    in_scope = [_path_parameter("namespace")] if rt.namespaced else []
    operation = _Operations(rt)
    collection = {
        "get": operation("list", listed=True) if "list" in rt.verbs else None,
        "post": operation("post") if "create" in rt.verbs else None,
        "delete": operation("deletecollection") if "deletecollection" in rt.verbs else None,
    }
    yield f"{scope}/{rt.plural}", _path_item(collection, in_scope)
    if "get" not in rt.verbs:
        return
    if rt.namespaced:
        everywhere = {"get": operation("list", listed=True, everywhere=True)}
        yield f"{prefix}/{rt.plural}", _path_item(everywhere, [])
    item = [_path_parameter("name"), *in_scope]
    single = {verb: operation(verb) for verb in ("get", "put", "patch", "delete")}
    yield f"{scope}/{rt.plural}/{{name}}", _path_item(single, item)
    if "status" in rt.subresources:
        status = {verb: operation(verb, status=True) for verb in ("get", "put", "patch")}
        yield f"{scope}/{rt.plural}/{{name}}/status", _path_item(status, item)


def _path_item(operations: Mapping[str, Obj | None], parameters: list[Obj]) -> Obj:
    item: Obj = {verb: op for verb, op in operations.items() if op is not None}
    item["parameters"] = [*parameters, _query("pretty")]
    return item


# The verb of an operationId where it differs from the x-kubernetes-action.
_ID_VERBS = {
    "post": "create",
    "put": "replace",
    "get": "read",
    "deletecollection": "deleteCollection",
}


class _Operations:
    """Builds the operations of one resource, named as the apiserver names them."""

    def __init__(self, rt: ResourceType) -> None:
        self._rt = rt
        group = "".join(p.capitalize() for p in rt.group.split(".")[0].split("-")) or "Core"
        self._prefix = f"{group}{rt.version.capitalize()}"

    def __call__(
        self, action: str, *, listed: bool = False, everywhere: bool = False, status: bool = False
    ) -> Obj:
        rt = self._rt
        scope = "Namespaced" if rt.namespaced and not everywhere else ""
        suffix = ("ForAllNamespaces" if everywhere else "") + ("Status" if status else "")
        verb = _ID_VERBS.get(action, action)
        returned = {"$ref": REFERENCE_PREFIX + schema_name(rt, listed=listed)}
        operation: Obj = {
            "operationId": f"{verb}{self._prefix}{scope}{rt.kind}{suffix}",
            "responses": {"200": _content(returned), "401": {"description": "Unauthorized"}},
            "x-kubernetes-action": action,
            "x-kubernetes-group-version-kind": {
                "group": rt.group,
                "version": rt.version,
                "kind": rt.kind,
            },
        }
        operation.update(_body(rt, action, returned, listed=listed))
        if action in ("post", "put"):
            operation["responses"]["201"] = _content(returned)
        elif action == "deletecollection":
            operation["responses"]["200"] = _content(_STATUS_SCHEMA)
        return operation


def _body(rt: ResourceType, action: str, returned: Obj, *, listed: bool) -> Obj:
    """An operation's query parameters and request body."""
    if action in ("post", "put"):
        body = {"content": {_JSON: {"schema": returned}}, "required": True}
        return {"parameters": _WRITE_PARAMETERS, "requestBody": body}
    if action == "patch":
        types = _PATCH_TYPES[:2] if rt.custom else _PATCH_TYPES
        body = {"content": {media: {"schema": _PATCH_SCHEMA} for media in types}, "required": True}
        return {"parameters": _WRITE_PARAMETERS, "requestBody": body}
    if action in ("delete", "deletecollection"):
        body = {"content": {_JSON: {"schema": _DELETE_OPTIONS}}}
        return {"parameters": _DELETE_PARAMETERS, "requestBody": body}
    return {"parameters": _LIST_PARAMETERS if listed else []}


def _content(schema: Obj) -> Obj:
    return {"description": "OK", "content": {_JSON: {"schema": schema}}}
