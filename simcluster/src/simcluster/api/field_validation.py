"""Server-side field validation (``fieldValidation``): unknown fields against Kubernetes' schemas.

kubectl validates nothing itself when the server's OpenAPI says it takes ``fieldValidation``
(`simcluster.api.openapi`): it sends ``Strict`` and relies on the answer. So a write naming a
field its kind does not have is refused here, as the apiserver's strict decoder refuses it;
``Warn`` (the default) answers with a ``Warning`` header per field instead, and ``Ignore``
says nothing. Unknown fields are kept, not pruned: the sim stores what it was sent.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from enum import StrEnum
from typing import Any

from simcluster.api.openapi_schemas import definitions, resolve, schema_name
from simcluster.errors import BadRequestError
from simcluster.resources import ResourceType


class FieldValidation(StrEnum):
    """What a write asks the server to do about unknown fields."""

    IGNORE = "Ignore"
    WARN = "Warn"
    STRICT = "Strict"


def field_validation(query: Mapping[str, str]) -> FieldValidation:
    """The request's ``fieldValidation`` (``Warn`` when absent, as the apiserver defaults).

    Raises:
        BadRequestError: a value other than the three.
    """
    value = query.get("fieldValidation") or FieldValidation.WARN.value
    try:
        return FieldValidation(value)
    except ValueError:
        raise BadRequestError(
            f'fieldValidation: Unsupported value: "{value}": supported values: '
            '"Ignore", "Strict", "Warn"'
        ) from None


def unknown_fields(rt: ResourceType, obj: Mapping[str, Any]) -> list[str]:
    """The paths of ``obj``'s fields that its kind's schema does not have, in document order."""
    return list(_unknown(obj, _schema(rt), ""))


def reject_unknown_fields(rt: ResourceType, obj: Mapping[str, Any], *, decoded: bool) -> None:
    """Refuse an object with unknown fields, in the strict decoder's words.

    Args:
        rt: The object's type.
        obj: The object to be written.
        decoded: Whether it came whole in the body (create, update) rather than from a patch.

    Raises:
        BadRequestError: some field is unknown.
    """
    unknown = unknown_fields(rt, obj)
    if not unknown:
        return
    message = "strict decoding error: " + ", ".join(f'unknown field "{f}"' for f in unknown)
    if decoded:
        message = f'{rt.kind} in version "{rt.version}" cannot be handled as a {rt.kind}: {message}'
    raise BadRequestError(message)


def warnings_for(rt: ResourceType, obj: Mapping[str, Any]) -> list[str]:
    """The ``Warning`` header values a ``Warn`` write answers with (RFC 7234 code 299)."""
    return [f'299 - "unknown field \\"{field}\\""' for field in unknown_fields(rt, obj)]


def _schema(rt: ResourceType) -> dict[str, Any]:
    if rt.custom:
        # Custom resources keep unknown fields; only their metadata has a fixed shape.
        meta = {"$ref": "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"}
        return {"properties": {"metadata": meta}, "x-kubernetes-preserve-unknown-fields": True}
    return definitions()[schema_name(rt)]


def _unknown(value: Any, schema: dict[str, Any], path: str) -> Iterator[str]:
    schema = resolve(schema)
    if isinstance(value, dict):
        known = schema.get("properties")
        each = schema.get("additionalProperties")
        if known is None and not isinstance(each, dict):
            return  # a free-form object (RawExtension, FieldsV1...)
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            if known is not None and key in known:
                yield from _unknown(item, known[key], where)
            elif isinstance(each, dict):
                yield from _unknown(item, each, where)
            elif not schema.get("x-kubernetes-preserve-unknown-fields"):
                yield where
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for index, item in enumerate(value):
            yield from _unknown(item, schema["items"], f"{path}[{index}]")
