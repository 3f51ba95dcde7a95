"""The bodies of PATCH requests: JSON merge patch, JSON patch and strategic merge patch.

`apply_patch` is what the HTTP layer calls inside its read-modify-write. It decodes the body,
applies it to a copy of the stored object and then enforces what the apiserver enforces on
every patched object (its ``patcher.applyPatch`` and the registry's update checks):

- ``metadata.namespace`` left empty is restored; a different one is 400 BadRequest; on a
  cluster-scoped object it is cleared.
- a different ``metadata.name`` is 400 BadRequest (``checkName``).
- a ``metadata.resourceVersion`` other than the stored one is 409 Conflict (optimistic
  concurrency); none means an unconditional update, so the stored one is kept.
- a different ``metadata.uid`` is 422 Invalid (immutable); none keeps the stored one.
- ``metadata.creationTimestamp`` and ``metadata.generation`` cannot be changed by a client;
  the stored values are kept (the store bumps the generation on spec changes).

Schema validation of the result (field types, required fields) is the caller's admission
step, as in Kubernetes where it runs after the patch.
"""

from __future__ import annotations

import copy
from enum import StrEnum
from typing import Any

import orjson

from simcluster.errors import (
    BadRequestError,
    ConflictError,
    InternalError,
    InvalidError,
    UnsupportedMediaTypeError,
)
from simcluster.json_patch import JsonPatchError, apply_json_patch
from simcluster.resources import ResourceType, resource_for_kind
from simcluster.strategic_merge import strategic_merge

JsonObject = dict[str, Any]

# The apiserver answers every JSON patch operation that does not apply with this generic
# 422 (it builds the Status with NewGenericServerResponse, which drops the reason).
REJECTED_MESSAGE = "the server rejected our request due to an error in our request"


class PatchType(StrEnum):
    """The PATCH media types the simulated apiserver accepts (no server-side apply)."""

    JSON = "application/json-patch+json"
    MERGE = "application/merge-patch+json"
    STRATEGIC_MERGE = "application/strategic-merge-patch+json"


def apply_patch(obj: JsonObject, body: bytes, content_type: str) -> JsonObject:
    """Apply a PATCH request body to a stored object and return the patched copy.

    Args:
        obj: The stored object; it is not changed.
        body: The raw request body.
        content_type: The request's ``Content-Type`` (parameters such as charset allowed).

    Raises:
        UnsupportedMediaTypeError: 415, the content type is not a supported patch type.
        BadRequestError: 400, the body does not decode, a strategic-merge directive is
            malformed, or the patch changes the name or namespace.
        ConflictError: 409, the patch carries a stale ``metadata.resourceVersion``.
        InvalidError: 422, a JSON patch operation does not apply (missing path, failed
            ``test``), the result is not an object, or the patch changes the uid.
        InternalError: 500, a strategic-merge list item lacks its merge key or names an
            unknown ``$patch`` (the apiserver does not translate those errors either).
    """
    match parse_patch_type(content_type):
        case PatchType.MERGE:
            patched = merge_patch(obj, _decode_merge_patch(body))
        case PatchType.JSON:
            try:
                patched = apply_json_patch(obj, _decode_json_patch(body))
            except JsonPatchError as exc:
                raise InvalidError(REJECTED_MESSAGE) from exc
        case PatchType.STRATEGIC_MERGE:
            patched = strategic_merge(obj, _decode_strategic_patch(body))
    return _keep_identity(obj, patched)


def parse_patch_type(content_type: str) -> PatchType:
    """Return the patch type of a ``Content-Type`` header, as the apiserver matches it.

    Raises:
        UnsupportedMediaTypeError: any other media type (415).
    """
    # Like the apiserver: drop parameters, then match exactly (case-sensitive, no trimming).
    cut = content_type.find(";")
    media_type = content_type[:cut] if cut > 0 else content_type
    try:
        return PatchType(media_type)
    except ValueError:
        accepted = ", ".join(PatchType)
        raise UnsupportedMediaTypeError(
            f"the body of the request was in an unknown format - accepted media types include: "
            f"{accepted}"
        ) from None


def merge_patch(target: Any, patch: Any) -> Any:
    """Apply an RFC 7386 JSON merge patch; neither argument is changed.

    ``null`` deletes a key, objects merge recursively, anything else (lists included)
    replaces the target value.
    """
    return _merge_into(copy.deepcopy(target), patch)


def _merge_into(target: Any, patch: Any) -> Any:
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = target if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = _merge_into(result.get(key), value)
    return result


def _decode(body: bytes) -> Any:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        message = "unexpected end of JSON input" if not body.strip() else str(exc)
        raise BadRequestError(message) from None


def _decode_merge_patch(body: bytes) -> Any:
    # The apiserver's merge-patch library answers all of these with ErrBadJSONPatch; an
    # array is accepted and fails later, when the result must be an object.
    try:
        patch = _decode(body)
    except BadRequestError:
        patch = None
    if not isinstance(patch, dict | list):
        raise BadRequestError("Invalid JSON Patch")
    return patch


def _decode_json_patch(body: bytes) -> list[JsonObject]:
    operations = _decode(body)
    if operations is None:
        return []
    if not isinstance(operations, list):
        raise BadRequestError(_go_type_error(operations, "jsonpatch.Patch"))
    for operation in operations:
        if not isinstance(operation, dict):
            raise BadRequestError(_go_type_error(operation, "jsonpatch.Operation"))
    return operations


def _decode_strategic_patch(body: bytes) -> JsonObject:
    patch = _decode(body)
    if patch is None:
        return {}
    if not isinstance(patch, dict):
        raise BadRequestError(_go_type_error(patch, "map[string]interface {}"))
    return patch


def _go_type_error(value: Any, go_type: str) -> str:
    """Go's ``encoding/json`` wording for a JSON value of the wrong type."""
    json_type = {dict: "object", list: "array", str: "string", bool: "bool"}.get(
        type(value), "number"
    )
    return f"json: cannot unmarshal {json_type} into Go value of type {go_type}"


def _keep_identity(current: JsonObject, patched: Any) -> JsonObject:
    """Enforce the apiserver's rules on the identity and system fields of a patched object."""
    if not isinstance(patched, dict):
        raise _undecodable(patched, patched, "map[string]interface {}")
    meta = patched.setdefault("metadata", {})
    if not isinstance(meta, dict):
        raise _undecodable(patched, meta, "v1.ObjectMeta")
    old: JsonObject = current.get("metadata", {})
    rt = _resource_type(current)
    if not rt.namespaced:
        meta.pop("namespace", None)
    elif not meta.get("namespace"):
        meta["namespace"] = old.get("namespace")
    elif meta["namespace"] != old.get("namespace"):
        raise BadRequestError(
            "the namespace of the provided object does not match the namespace sent on the request"
        )
    name = old.get("name", "")
    if meta.get("name") != name:
        raise BadRequestError(
            f"the name of the object ({meta.get('name') or ''}) does not match the name on the "
            f"URL ({name})"
        )
    version = meta.get("resourceVersion")
    if version and str(version) != old.get("resourceVersion"):
        raise ConflictError.stale(rt, name)
    uid = meta.get("uid")
    if uid and uid != old.get("uid"):
        cause = f'Invalid value: "{uid}": field is immutable'
        raise InvalidError.of(rt, name, [("metadata.uid", "FieldValueInvalid", cause)])
    for field in ("resourceVersion", "uid", "creationTimestamp"):
        if field in old:
            meta[field] = old[field]
    # Only the apiserver sets the generation; the store bumps it when the spec changes.
    if "generation" in old:
        meta["generation"] = old["generation"]
    else:
        meta.pop("generation", None)
    return patched


def _resource_type(obj: JsonObject) -> ResourceType:
    try:
        return resource_for_kind(str(obj.get("kind")))
    except KeyError:
        raise InternalError(f"kind {obj.get('kind')!r} is not served") from None


def _undecodable(patched: Any, bad: Any, go_type: str) -> InvalidError:
    """The apiserver's 422 when the patched document no longer decodes into the object type."""
    text = orjson.dumps(patched).decode()
    message = f'Invalid value: "{text}": {_go_type_error(bad, go_type)}'
    # The apiserver's message starts with an empty group-kind and name: ' "" is invalid'.
    return InvalidError(
        f' "" is invalid: patch: {message}',
        details={"causes": [{"reason": "FieldValueInvalid", "message": message, "field": "patch"}]},
    )
