"""Object metadata shared by every view, and the small readers the view parsers use."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType
from typing import Any

JsonObject = Mapping[str, Any]
"""A Kubernetes object as decoded from JSON."""

EMPTY: Mapping[str, Any] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class OwnerReference:
    """One entry of ``metadata.ownerReferences``."""

    api_version: str
    kind: str
    name: str
    uid: str
    controller: bool


@dataclass(frozen=True, slots=True)
class ObjectMeta:
    """The ``metadata`` fields flows use."""

    name: str
    namespace: str | None
    uid: str
    resource_version: str
    generation: int | None
    labels: Mapping[str, str]
    annotations: Mapping[str, str]
    owner_references: tuple[OwnerReference, ...]
    creation_timestamp: datetime | None
    deletion_timestamp: datetime | None

    @property
    def controller(self) -> OwnerReference | None:
        """The owner reference marked ``controller: true``, if any."""
        return next((owner for owner in self.owner_references if owner.controller), None)

    @property
    def deleting(self) -> bool:
        """Whether the object is being deleted (it has a ``deletionTimestamp``)."""
        return self.deletion_timestamp is not None


def parse_time(value: Any) -> datetime | None:
    """Read an RFC 3339 timestamp as Kubernetes writes it; None when absent or unreadable."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def mapping(value: Any) -> Mapping[str, Any]:
    """The value when it is a JSON object, else an empty read-only mapping."""
    return value if isinstance(value, dict) else EMPTY


def objects(value: Any) -> list[JsonObject]:
    """The JSON objects of a list field; absent or malformed gives an empty list."""
    if not isinstance(value, list):
        return []
    return [item for item in value if isinstance(item, dict)]


def optional_str(value: Any) -> str | None:
    """A non-empty string, else None."""
    return value if isinstance(value, str) and value else None


def parse_owner_reference(obj: JsonObject) -> OwnerReference:
    """Read one owner reference."""
    return OwnerReference(
        api_version=obj.get("apiVersion") or "",
        kind=obj.get("kind") or "",
        name=obj.get("name") or "",
        uid=obj.get("uid") or "",
        controller=obj.get("controller") is True,
    )


def parse_meta(obj: JsonObject) -> ObjectMeta:
    """Read the ``metadata`` of a Kubernetes object."""
    # Hot path (thousands of objects per list): lookups are inlined rather than helper calls.
    meta = obj.get("metadata")
    if type(meta) is not dict:
        meta = EMPTY
    labels = meta.get("labels")
    annotations = meta.get("annotations")
    owners = meta.get("ownerReferences")
    generation = meta.get("generation")
    deletion = meta.get("deletionTimestamp")
    return ObjectMeta(
        name=meta.get("name") or "",
        namespace=meta.get("namespace") or None,
        uid=meta.get("uid") or "",
        resource_version=meta.get("resourceVersion") or "",
        generation=generation if type(generation) is int else None,
        labels=labels if type(labels) is dict else EMPTY,
        annotations=annotations if type(annotations) is dict else EMPTY,
        owner_references=tuple([parse_owner_reference(o) for o in owners if type(o) is dict])
        if type(owners) is list
        else (),
        creation_timestamp=parse_time(meta.get("creationTimestamp")),
        deletion_timestamp=parse_time(deletion) if deletion else None,
    )
