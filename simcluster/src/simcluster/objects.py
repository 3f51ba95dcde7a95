"""Stored-object representation and the small value helpers shared by the store and controllers."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from simcluster.resources import ResourceType

Obj = dict[str, Any]


def utc_now() -> datetime:
    """The current time in UTC (the default clock)."""
    return datetime.now(UTC)


def format_time(moment: datetime) -> str:
    """Format a timestamp the way the apiserver does (RFC 3339, seconds, ``Z``)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def field_value(obj: Mapping[str, Any], path: str) -> str:
    """Read a dotted field path as the string a field selector compares with ('' if absent)."""
    node: Any = obj
    for part in path.split("."):
        if not isinstance(node, Mapping):
            return ""
        node = node.get(part)
    if node is None:
        return ""
    if isinstance(node, bool):
        return "true" if node else "false"
    return str(node)


@dataclass(slots=True)
class Entry:
    """A stored object: its serialized form and what selectors look at."""

    raw: bytes
    labels: dict[str, str]
    fields: dict[str, str]
    resource_version: int


@dataclass(frozen=True)
class ListResult:
    """A consistent snapshot of matching objects and the revision it was taken at."""

    items: list[bytes]
    resource_version: int

    def objects(self) -> list[Obj]:
        """Decode the items (a fresh copy each call)."""
        return [orjson.loads(raw) for raw in self.items]


def selectable_fields(rt: ResourceType, obj: Obj) -> dict[str, str]:
    """The values of every field a list of ``rt`` may select on."""
    fields = {
        "metadata.name": obj["metadata"]["name"],
        "metadata.namespace": obj["metadata"].get("namespace", ""),
    }
    for path in rt.field_selectors:
        fields[path] = field_value(obj, path)
    return fields


def supports_field(rt: ResourceType) -> Callable[[str], bool]:
    """A predicate telling which field paths a list of ``rt`` may select on."""
    allowed = {"metadata.name", "metadata.namespace", *rt.field_selectors}
    return allowed.__contains__
