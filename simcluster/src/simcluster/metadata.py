"""Server-owned object metadata: names, namespaces, uids and timestamps, and what a PUT keeps."""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from simcluster.errors import InvalidError, NotFoundError
from simcluster.naming import unique_name
from simcluster.objects import format_time
from simcluster.resources import NAMESPACES, ResourceType

Obj = dict[str, Any]

SERVER_OWNED = (
    "uid",
    "creationTimestamp",
    "generation",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
)
"""Metadata a client cannot set or change through a PUT."""

_RANDOM = random.SystemRandom()

# Kinds whose metadata.generation the apiserver does not track (in the versions we serve).
_NO_GENERATION = frozenset({"Pod", "Node", "Namespace"})


def resolve_namespace(
    rt: ResourceType,
    meta: Obj,
    *,
    from_url: str | None,
    namespace_exists: Callable[[str], bool],
) -> str:
    """The namespace a create lands in ('' for cluster-scoped types).

    Raises:
        InvalidError: the body's namespace contradicts the URL's.
        NotFoundError: the namespace does not exist.
    """
    if not rt.namespaced:
        return ""
    ns = from_url or meta.get("namespace") or "default"
    if meta.get("namespace") and from_url and meta["namespace"] != from_url:
        raise InvalidError.of(
            rt,
            meta.get("name", ""),
            [
                (
                    "metadata.namespace",
                    "FieldValueInvalid",
                    "the namespace of the provided object does not match the namespace "
                    "sent on the request",
                )
            ],
        )
    if not namespace_exists(ns):
        raise NotFoundError.of(NAMESPACES, ns)
    return str(ns)


def generate_name(prefix: str | None, *, taken: Callable[[str], bool]) -> str:
    """``prefix`` plus five random characters not yet taken ('' without a prefix)."""
    return unique_name(prefix, _RANDOM, taken) if prefix else ""


def stamp_new_object(
    rt: ResourceType, obj: Obj, *, name: str, namespace: str, now: datetime
) -> None:
    """Set what the apiserver sets on create: identity, uid, creation time, generation."""
    meta = obj.setdefault("metadata", {})
    meta["name"] = name
    if rt.namespaced:
        meta["namespace"] = namespace
    meta["uid"] = str(uuid.uuid4())
    meta["creationTimestamp"] = format_time(now)
    if "spec" in obj and rt.kind not in _NO_GENERATION:
        meta["generation"] = 1
    meta.pop("deletionTimestamp", None)
    meta.pop("deletionGracePeriodSeconds", None)
    obj["apiVersion"] = rt.api_version
    obj["kind"] = rt.kind


def replacement(rt: ResourceType, current: Obj, new: Obj, *, subresource: str | None) -> Obj:
    """What a PUT of ``new`` over ``current`` stores.

    The status subresource changes only the status; the main resource keeps the stored status
    (for types with a status subresource) and the server-owned metadata.
    """
    if subresource == "status":
        return {**current, "status": new.get("status", {})}
    server_owned = {k: current["metadata"][k] for k in SERVER_OWNED if k in current["metadata"]}
    result = dict(new)
    # What the client sent of these is ignored: it can neither set nor change them.
    sent = {k: v for k, v in (new.get("metadata") or {}).items() if k not in SERVER_OWNED}
    result["metadata"] = {**sent, **server_owned}
    if "status" in rt.subresources:
        if "status" in current:
            result["status"] = current["status"]
        else:
            result.pop("status", None)
    return result
