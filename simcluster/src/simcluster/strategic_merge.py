"""Kubernetes strategic merge patch for the object kinds the simulated cluster serves.

Kubernetes reads each list's patch strategy from Go struct tags (``patchStrategy``,
``patchMergeKey``). The sim has no Go types, so `merge_key_for` derives it from the list's
path (field names from the object root, list positions left out) with two tables below:
``_BY_ROOT_PATH`` for whole paths (Service ``spec.ports`` by ``port``, Node
``status.addresses`` by ``type``) and ``_BY_SUFFIX`` for the trailing field names, which
covers pod specs wherever they sit (Pods, workload templates): ``containers`` by ``name``,
container ``ports`` by ``containerPort``, ``env`` by ``name``, ``volumeMounts`` by
``mountPath``, ``conditions`` by ``type``, ``ownerReferences`` by ``uid``, ...
Every other list (``tolerations``, ``envFrom``, ``args``, Endpoints ``subsets``,
EndpointSlice ``ports``, ClusterRole ``rules``, StatefulSet ``volumeClaimTemplates``...) is
replaced by the patch's list, as Kubernetes does for lists without a strategy. Maps are merged
key by key (``null`` deletes a key), but for the few a kind declares ``replace``
(``_REPLACED_MAPS``). ``_BY_KIND`` overrides a path for the one kind whose field differs;
tests/simcluster/test_strategic_merge.py proves the tables agree with Kubernetes 1.30's
schemas for every served kind.

Directives: ``$patch: replace|delete`` on a map or as a list item, ``$retainKeys``,
``$setElementOrder/<list>`` and ``$deleteFromPrimitiveList/<list>``. Errors carry the
apiserver's codes and wording: malformed directives are 400, a list item without its merge
key or an unknown ``$patch`` value is 500 (the apiserver does not translate those).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from simcluster.errors import BadRequestError, InternalError

_SET = ""  # merge key of lists of scalars that merge as a set
_BY_ROOT_PATH: dict[tuple[str, ...], str] = {
    ("spec", "ports"): "port",
    ("status", "addresses"): "type",
    ("spec", "podCIDRs"): _SET,
}
_BY_SUFFIX: dict[tuple[str, ...], str] = {
    ("containers", "ports"): "containerPort",
    ("initContainers", "ports"): "containerPort",
    ("ephemeralContainers", "ports"): "containerPort",
    ("metadata", "ownerReferences"): "uid",
    ("metadata", "finalizers"): _SET,
    ("containers",): "name",
    ("initContainers",): "name",
    ("ephemeralContainers",): "name",
    ("volumes",): "name",
    ("env",): "name",
    ("imagePullSecrets",): "name",
    ("schedulingGates",): "name",
    ("resourceClaims",): "name",
    ("volumeMounts",): "mountPath",
    ("volumeDevices",): "devicePath",
    ("hostAliases",): "ip",
    ("podIPs",): "ip",
    ("hostIPs",): "ip",
    ("topologySpreadConstraints",): "topologyKey",
    ("conditions",): "type",
}

# Where one kind's field merges otherwise than the same path elsewhere (None: replaced).
_BY_KIND: dict[tuple[str, tuple[str, ...]], str | None] = {
    ("ServiceAccount", ("imagePullSecrets",)): None,
    ("ServiceAccount", ("secrets",)): "name",
}
# Maps whose patch strategy is ``replace``: a patch's map takes the stored one's place.
_REPLACED_MAPS = frozenset({("PodDisruptionBudget", ("spec", "selector"))})

_PATCH = "$patch"
_RETAIN_KEYS = "$retainKeys"
_ORDER_PREFIX = "$setElementOrder/"
_DELETE_PREFIX = "$deleteFromPrimitiveList/"


def merge_key_for(path: tuple[str, ...], *, kind: str = "") -> str | None:
    """Return how the list at ``path`` of a ``kind`` merges: its merge key, ``""`` for a set of
    scalars, or None when the patch's list replaces it."""
    if (kind, path) in _BY_KIND:
        return _BY_KIND[(kind, path)]
    if path in _BY_ROOT_PATH:
        return _BY_ROOT_PATH[path]
    for length in (2, 1):
        key = _BY_SUFFIX.get(path[-length:]) if len(path) >= length else None
        if key is not None:
            return key
    return None


def strategic_merge(original: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """Apply a strategic merge patch and return the result; ``original`` is not changed.

    Raises:
        BadRequestError: a directive is malformed (400).
        InternalError: a list item lacks its merge key or ``$patch`` is unknown (500).
    """
    kind = str(original.get("kind") or "")
    return _merge_map(copy.deepcopy(original), patch, _At(kind, ()))


@dataclass(frozen=True, slots=True)
class _At:
    """Where a merge is: the object's kind and the field path (list positions left out)."""

    kind: str
    path: tuple[str, ...]

    def __truediv__(self, field: str) -> _At:
        return _At(self.kind, (*self.path, field))

    def merge_key(self) -> str | None:
        return merge_key_for(self.path, kind=self.kind)

    def replaces_map(self) -> bool:
        return (self.kind, self.path) in _REPLACED_MAPS


def _merge_map(original: dict[str, Any], patch: dict[str, Any], at: _At) -> dict[str, Any]:
    directive = patch.get(_PATCH)
    if directive == "replace":
        return _merge_map({}, {k: v for k, v in patch.items() if k != _PATCH}, at)
    if directive == "delete":
        return {}
    if directive is not None:
        raise _internal(f"unknown patch type: {_go(directive)} in map: {_go(patch)}")
    _retain_keys(original, patch)
    orders = _element_orders(original, patch, at)
    for key, value in patch.items():
        if key.startswith(_DELETE_PREFIX):
            _delete_from_primitive_list(original, key.removeprefix(_DELETE_PREFIX), value)
    for key, value in patch.items():
        if key.startswith("$"):
            continue
        if value is None:
            original.pop(key, None)
        elif isinstance(value, dict):
            current = original.get(key)
            into_map = current if isinstance(current, dict) else {}
            if (at / key).replaces_map():
                into_map = {}
            original[key] = _merge_map(into_map, value, at / key)
        elif isinstance(value, list):
            current = original.get(key)
            into_list = current if isinstance(current, list) else []
            original[key] = _merge_list(into_list, value, at / key)
        else:
            original[key] = value
    for key, (order, server_ids) in orders.items():
        merge_key = (at / key).merge_key()
        # Replaced lists keep the patch's order; only merged lists are re-arranged.
        if merge_key is not None and isinstance(original.get(key), list):
            original[key] = _arrange(original[key], order, server_ids, merge_key)
    return original


def _merge_list(original: list[Any], patch: list[Any], at: _At) -> list[Any]:
    merge_key = at.merge_key()
    if merge_key is None:
        return [_merge_map({}, item, at) if isinstance(item, dict) else item for item in patch]
    if not any(isinstance(item, dict) for item in original + patch):
        merged = _dedup(original + patch)
        return _arrange(merged, patch, [_identity(i, merge_key) for i in original], merge_key)
    if merge_key == _SET or not all(isinstance(item, dict) for item in original + patch):
        raise _internal(f"cannot merge lists without merge key for {at.path[-1]}")
    original, patch = _apply_list_directives(original, patch, merge_key)
    server_ids = [_identity(item, merge_key) for item in original]
    merged = list(original)
    for item in patch:
        if merge_key not in item:
            raise _no_merge_key(item, merge_key)
        position = _position(merged, merge_key, item[merge_key])
        if position is None:
            merged.append(_merge_map({}, item, at))
        else:
            merged[position] = _merge_map(merged[position], item, at)
    return _arrange(merged, patch, server_ids, merge_key)


def _apply_list_directives(
    original: list[Any], patch: list[Any], merge_key: str
) -> tuple[list[Any], list[Any]]:
    """Handle ``$patch`` list items: deletions by merge key, or replacement of the list."""
    plain: list[Any] = []
    replace = False
    for item in patch:
        directive = item.get(_PATCH)
        if directive is None:
            plain.append(item)
        elif directive == "delete":
            if merge_key not in item:
                raise _no_merge_key(item, merge_key)
            doomed = _scalar_id(item[merge_key])
            original = [o for o in original if _identity(o, merge_key) != doomed]
        elif directive == "replace":
            replace = True
        elif directive == "merge":
            raise _internal("merging lists cannot yet be specified in the patch")
        else:
            raise _internal(f"unknown patch type: {_go(directive)} in map: {_go(item)}")
    return ([], plain) if replace else (original, plain)


def _retain_keys(original: dict[str, Any], patch: dict[str, Any]) -> None:
    if _RETAIN_KEYS not in patch:
        return
    retained = patch[_RETAIN_KEYS]
    if not isinstance(retained, list):
        raise BadRequestError("invalid patch format of retainKeys")
    for key, value in patch.items():
        if value is not None and not key.startswith("$") and key not in retained:
            raise BadRequestError("invalid patch format of retainKeys")
    for key in [k for k in original if k not in retained]:
        del original[key]


def _element_orders(
    original: dict[str, Any], patch: dict[str, Any], at: _At
) -> dict[str, tuple[list[Any], list[Any]]]:
    """Collect ``$setElementOrder`` lists with the server order of each list before merging."""
    orders: dict[str, tuple[list[Any], list[Any]]] = {}
    for key, order in patch.items():
        if not key.startswith(_ORDER_PREFIX):
            continue
        if not isinstance(order, list):
            raise BadRequestError("invalid patch format of setElementOrder list")
        field = key.removeprefix(_ORDER_PREFIX)
        current = original.get(field)
        merge_key = (at / field).merge_key()
        server = current if isinstance(current, list) else []
        orders[field] = (order, [_identity(item, merge_key) for item in server])
    return orders


def _delete_from_primitive_list(original: dict[str, Any], field: str, values: Any) -> None:
    if not isinstance(values, list):
        raise BadRequestError("invalid patch format of primitive list")
    current = original.get(field)
    if isinstance(current, list):
        doomed = {_scalar_id(v) for v in values if not isinstance(v, dict | list)}
        original[field] = [v for v in current if _identity(v, _SET) not in doomed]


def _arrange(
    merged: list[Any], lead: list[Any], server_ids: list[Any], merge_key: str | None
) -> list[Any]:
    """Order a merged list as Kubernetes does (``normalizeElementOrder``).

    Items named in ``lead`` (the patch list, or ``$setElementOrder``) follow its order; the
    others keep the server's order; the two runs interleave by server position, and items
    the server did not have yet go after those it had.
    """
    lead_ids = [_identity(item, merge_key) for item in lead]
    in_lead = [item for item in merged if _identity(item, merge_key) in lead_ids]
    rest = [item for item in merged if _identity(item, merge_key) not in lead_ids]
    in_lead.sort(key=lambda item: lead_ids.index(_identity(item, merge_key)))
    rest.sort(key=lambda item: _rank(server_ids, _identity(item, merge_key)))
    arranged: list[Any] = []
    while rest or in_lead:
        if not in_lead:
            arranged.append(rest.pop(0))
        elif not rest:
            arranged.append(in_lead.pop(0))
        else:
            left = _rank(server_ids, _identity(rest[0], merge_key))
            right = _rank(server_ids, _identity(in_lead[0], merge_key))
            both_known = left < len(server_ids) and right < len(server_ids)
            arranged.append(in_lead.pop(0) if both_known and right < left else rest.pop(0))
    return arranged


def _rank(ids: list[Any], identity: Any) -> int:
    return ids.index(identity) if identity in ids else len(ids)


def _identity(item: Any, merge_key: str | None) -> Any:
    if isinstance(item, dict):
        return _scalar_id(item.get(merge_key or ""))
    return _scalar_id(item)


def _scalar_id(value: Any) -> Any:
    """A hashable stand-in that keeps ``true`` apart from ``1``."""
    if isinstance(value, dict | list):
        return ("json", repr(value))
    return (type(value) is bool, value)


def _dedup(items: list[Any]) -> list[Any]:
    seen: set[Any] = set()
    unique = []
    for item in items:
        if _scalar_id(item) not in seen:
            seen.add(_scalar_id(item))
            unique.append(item)
    return unique


def _position(items: list[Any], merge_key: str, value: Any) -> int | None:
    wanted = _scalar_id(value)
    return next((i for i, o in enumerate(items) if _identity(o, merge_key) == wanted), None)


def _internal(reason: str) -> InternalError:
    """The apiserver's answer to an untranslated strategic-merge error (HTTP 500)."""
    details = {"causes": [{"message": reason}]}
    return InternalError(f"Internal error occurred: {reason}", details=details)


def _no_merge_key(item: dict[str, Any], merge_key: str) -> InternalError:
    return _internal(f"map: {_go(item)} does not contain declared merge key: {merge_key}")


def _go(value: Any) -> str:
    """Render a decoded JSON value the way Go's ``%v`` prints it in apiserver messages."""
    if isinstance(value, dict):
        return "map[" + " ".join(f"{k}:{_go(value[k])}" for k in sorted(value)) + "]"
    if isinstance(value, list):
        return "[" + " ".join(_go(v) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    return "<nil>" if value is None else str(value)
