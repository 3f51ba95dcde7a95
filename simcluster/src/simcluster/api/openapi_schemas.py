"""Kubernetes 1.30's own schemas for the served kinds, in the form an apiserver's OpenAPI v3 has.

``openapi-v1.30.json`` beside this module is the part of Kubernetes 1.30's definitions that the
served kinds reach, as the kubernetes-validate package ships them (JSON Schema, descriptions
left out; ``tests/simcluster/openapi_vendoring.py`` derives it and proves it current). They are
turned back into OpenAPI's form here: one type per field instead of ``[type, "null"]``,
``#/components/schemas/`` references, no ``enum`` pinning apiVersion and kind, and IntOrString
and Quantity as the plain strings OpenAPI declares them. kubectl reads them to build its
strategic merge patches; `simcluster.api.field_validation` reads them to find unknown fields.

Custom resources get what a CRD whose schema keeps unknown fields publishes: an open object.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Iterator, Mapping
from importlib import resources as package_files
from typing import Any

from simcluster.resources import ResourceType

Obj = dict[str, Any]

VENDORED_FILE = package_files.files("simcluster.api") / "openapi-v1.30.json"
REFERENCE_PREFIX = "#/components/schemas/"
_JSON_SCHEMA_PREFIX = "#/$defs/"
_META = "io.k8s.apimachinery.pkg.apis.meta.v1."
# What every group version's document carries beside its kinds (errors, options, patches).
_ALWAYS = tuple(_META + name for name in ("DeleteOptions", "Patch", "Status", "WatchEvent"))


@functools.cache
def definitions() -> Mapping[str, Obj]:
    """Every vendored definition in OpenAPI v3 form, by name (read once)."""
    upstream = json.loads(VENDORED_FILE.read_text(encoding="utf-8"))
    return {name: _openapi(schema) for name, schema in upstream.items()}


def schema_name(rt: ResourceType, *, listed: bool = False) -> str:
    """The definition of ``rt``'s kind (or list kind), e.g. ``io.k8s.api.apps.v1.Deployment``.

    Raises:
        KeyError: a built-in kind missing from the vendored schemas (regenerate them).
    """
    kind = rt.list_kind if listed else rt.kind
    if rt.custom:
        reversed_group = ".".join(reversed(rt.group.split(".")))
        return f"{reversed_group}.{rt.version}.{kind}"
    return _by_kind()[(rt.group, rt.version, kind)]


def components(kinds: Iterable[ResourceType]) -> dict[str, Obj]:
    """The schemas a group version's document holds: its kinds, their lists and what they use."""
    schemas: dict[str, Obj] = {}
    pending = list(_ALWAYS)
    for rt in kinds:
        if rt.custom:
            schemas[schema_name(rt)] = _open_schema(rt)
            schemas[schema_name(rt, listed=True)] = _open_list_schema(rt)
            pending.append(_META + "ObjectMeta")
            pending.append(_META + "ListMeta")
        else:
            pending.append(schema_name(rt))
            if "list" in rt.verbs:
                pending.append(schema_name(rt, listed=True))
    known = definitions()
    while pending:
        name = pending.pop()
        if name not in schemas:
            schemas[name] = known[name]
            pending.extend(_references(known[name]))
    return dict(sorted(schemas.items()))


def resolve(schema: Obj) -> Obj:
    """Follow a schema's ``$ref`` (if any) to the definition it names."""
    reference = schema.get("$ref")
    if isinstance(reference, str) and reference.startswith(REFERENCE_PREFIX):
        return definitions()[reference.removeprefix(REFERENCE_PREFIX)]
    return schema


@functools.cache
def _by_kind() -> Mapping[tuple[str, str, str], str]:
    return {
        (gvk["group"], gvk["version"], gvk["kind"]): name
        for name, schema in definitions().items()
        for gvk in schema.get("x-kubernetes-group-version-kind", [])
    }


def _openapi(schema: Any) -> Any:
    if isinstance(schema, list):
        return [_openapi(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    result = {key: _openapi(value) for key, value in schema.items()}
    types = result.get("type")
    if isinstance(types, list):
        result["type"] = next((t for t in types if t != "null"), "string")
    alternatives = result.get("oneOf")
    if isinstance(alternatives, list) and all(set(a) == {"type"} for a in alternatives):
        # IntOrString and Quantity: JSON Schema spells out what OpenAPI calls a string.
        del result["oneOf"]
        result["type"] = "string"
        if any(a["type"] == "integer" for a in alternatives):
            result["format"] = "int-or-string"
    reference = result.get("$ref")
    if isinstance(reference, str) and reference.startswith(_JSON_SCHEMA_PREFIX):
        result["$ref"] = REFERENCE_PREFIX + reference.removeprefix(_JSON_SCHEMA_PREFIX)
    if "x-kubernetes-group-version-kind" in result:
        for field in ("apiVersion", "kind"):
            result.get("properties", {}).get(field, {}).pop("enum", None)
    return result


def _references(schema: Any) -> Iterator[str]:
    if isinstance(schema, dict):
        for key, value in schema.items():
            if key == "$ref" and isinstance(value, str):
                yield value.removeprefix(REFERENCE_PREFIX)
            else:
                yield from _references(value)
    elif isinstance(schema, list):
        for item in schema:
            yield from _references(item)


def _group_version_kind(rt: ResourceType, kind: str) -> list[dict[str, str]]:
    return [{"group": rt.group, "version": rt.version, "kind": kind}]


def _open_schema(rt: ResourceType) -> Obj:
    return {
        "type": "object",
        "properties": {
            "apiVersion": {"type": "string"},
            "kind": {"type": "string"},
            "metadata": {"$ref": REFERENCE_PREFIX + _META + "ObjectMeta"},
        },
        "x-kubernetes-preserve-unknown-fields": True,
        "x-kubernetes-group-version-kind": _group_version_kind(rt, rt.kind),
    }


def _open_list_schema(rt: ResourceType) -> Obj:
    return {
        "type": "object",
        "required": ["items"],
        "properties": {
            "apiVersion": {"type": "string"},
            "items": {"type": "array", "items": {"$ref": REFERENCE_PREFIX + schema_name(rt)}},
            "kind": {"type": "string"},
            "metadata": {"$ref": REFERENCE_PREFIX + _META + "ListMeta"},
        },
        "x-kubernetes-group-version-kind": _group_version_kind(rt, rt.list_kind),
    }
