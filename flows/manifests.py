"""Kubernetes objects as manifests to keep: without status and server-owned metadata."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import yaml

#: Fields the API server owns: dropped so a backup can be applied again as it is.
SERVER_FIELDS = frozenset(
    {"uid", "resourceVersion", "generation", "creationTimestamp", "managedFields", "selfLink"}
)


def restorable(obj: Mapping[str, Any]) -> dict[str, Any]:
    """The object without its status and server-owned metadata (``kubectl apply``-able)."""
    metadata = {k: v for k, v in dict(obj.get("metadata") or {}).items() if k not in SERVER_FIELDS}
    return {**{k: v for k, v in obj.items() if k != "status"}, "metadata": metadata}


def manifest_list(objects: Iterable[Mapping[str, Any]]) -> str:
    """Objects as one ``kind: List`` YAML document that ``kubectl apply -f`` takes."""
    items = [restorable(obj) for obj in objects]
    return yaml.safe_dump({"apiVersion": "v1", "kind": "List", "items": items}, sort_keys=False)
