"""Request bodies: patches (strategic merge or JSON patch) and delete preconditions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from integrations.kubernetes.views.meta import JsonObject


@dataclass(frozen=True, slots=True)
class StrategicMergePatch:
    """A strategic merge patch: a partial object merged the Kubernetes way (lists by key)."""

    body: JsonObject


@dataclass(frozen=True, slots=True)
class JsonPatchOperation:
    """One RFC 6902 operation; a ``test`` makes the patch fail (422) if the object changed."""

    op: Literal["add", "remove", "replace", "test"]
    path: str
    value: Any = None

    def to_json(self) -> dict[str, Any]:
        """The operation as the API server reads it."""
        if self.op == "remove":
            return {"op": self.op, "path": self.path}
        return {"op": self.op, "path": self.path, "value": self.value}


@dataclass(frozen=True, slots=True)
class JsonPatch:
    """An RFC 6902 JSON patch: operations applied in order, all or nothing."""

    operations: tuple[JsonPatchOperation, ...]


Patch = StrategicMergePatch | JsonPatch


def patch_content_type(patch: Patch) -> str:
    """The ``Content-Type`` that tells the API server how to apply `patch`."""
    if isinstance(patch, JsonPatch):
        return "application/json-patch+json"
    return "application/strategic-merge-patch+json"


def patch_body(patch: Patch) -> dict[str, Any] | list[dict[str, Any]]:
    """The JSON body of `patch`."""
    if isinstance(patch, JsonPatch):
        return [operation.to_json() for operation in patch.operations]
    return dict(patch.body)


def delete_options(
    *, uid: str | None, resource_version: str | None
) -> dict[str, dict[str, str]] | None:
    """A ``DeleteOptions`` body carrying the preconditions, or None when there are none."""
    preconditions = {
        key: value
        for key, value in (("uid", uid), ("resourceVersion", resource_version))
        if value is not None
    }
    return {"preconditions": preconditions} if preconditions else None
