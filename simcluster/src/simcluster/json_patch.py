"""RFC 6902 JSON Patch: apply a list of operations to a JSON document."""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from typing import Any

_INDEX = re.compile(r"0|[1-9][0-9]*")
_BAD_ESCAPE = re.compile(r"~(?![01])")


class JsonPatchError(ValueError):
    """An operation could not be applied (missing path, failed ``test``, bad operation)."""


def apply_json_patch(doc: Any, operations: list[dict[str, Any]]) -> Any:
    """Apply RFC 6902 operations in order and return the patched document.

    The operations work on a deep copy, so ``doc`` is never changed, also when an operation
    fails half-way: a patch applies completely or not at all.

    Args:
        doc: The JSON document (decoded).
        operations: The decoded patch, one mapping per operation.

    Raises:
        JsonPatchError: an operation is malformed or does not apply.
    """
    result = copy.deepcopy(doc)
    for operation in operations:
        result = _apply_one(result, operation)
    return result


def json_equal(left: Any, right: Any) -> bool:
    """Compare two JSON values as RFC 6902 ``test`` does (``true`` is not ``1``)."""
    if isinstance(left, bool) or isinstance(right, bool):
        return type(left) is type(right) and left == right
    if isinstance(left, int | float) and isinstance(right, int | float):
        return left == right
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(json_equal(left[k], right[k]) for k in left)
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(map(json_equal, left, right))
    return type(left) is type(right) and bool(left == right)


def _apply_one(doc: Any, operation: dict[str, Any]) -> Any:
    op = operation.get("op")
    handler = _HANDLERS.get(op) if isinstance(op, str) else None
    if handler is None:
        raise JsonPatchError(f"Unexpected kind: {op}")
    return handler(doc, operation)


def _add(doc: Any, operation: dict[str, Any]) -> Any:
    return _insert(doc, _pointer(operation, "path"), _value(operation))


def _remove(doc: Any, operation: dict[str, Any]) -> Any:
    tokens = _pointer(operation, "path")
    _take(doc, tokens)
    return doc


def _replace(doc: Any, operation: dict[str, Any]) -> Any:
    path, tokens = operation.get("path"), _pointer(operation, "path")
    value = _value(operation)
    if not tokens:
        return value
    parent = _resolve(doc, tokens[:-1])
    if isinstance(parent, dict):
        if tokens[-1] not in parent:
            raise JsonPatchError(f"replace operation does not apply: doc is missing key: {path}")
        parent[tokens[-1]] = value
    else:
        parent[_index(parent, tokens[-1], allow_end=False)] = value
    return doc


def _move(doc: Any, operation: dict[str, Any]) -> Any:
    source, target = _pointer(operation, "from"), _pointer(operation, "path")
    if source == target:
        return doc
    if target[: len(source)] == source:
        raise JsonPatchError("move operation cannot move a value into one of its children")
    return _insert(doc, target, _take(doc, source))


def _copy(doc: Any, operation: dict[str, Any]) -> Any:
    source = _pointer(operation, "from")
    return _insert(doc, _pointer(operation, "path"), copy.deepcopy(_resolve(doc, source)))


def _test(doc: Any, operation: dict[str, Any]) -> Any:
    path = operation.get("path")
    if not json_equal(_resolve(doc, _pointer(operation, "path")), _value(operation)):
        raise JsonPatchError(f"testing value {path} failed: test failed")
    return doc


_HANDLERS: dict[str, Callable[[Any, dict[str, Any]], Any]] = {
    "add": _add,
    "remove": _remove,
    "replace": _replace,
    "move": _move,
    "copy": _copy,
    "test": _test,
}


def _pointer(operation: dict[str, Any], member: str) -> list[str]:
    pointer = operation.get(member)
    if not isinstance(pointer, str):
        raise JsonPatchError(f"operation missing {member} field")
    if pointer == "":
        return []
    if not pointer.startswith("/") or _BAD_ESCAPE.search(pointer):
        raise JsonPatchError(f"invalid JSON pointer: {pointer}")
    return [token.replace("~1", "/").replace("~0", "~") for token in pointer[1:].split("/")]


def _value(operation: dict[str, Any]) -> Any:
    if "value" not in operation:
        raise JsonPatchError("operation missing value field")
    return copy.deepcopy(operation["value"])


def _index(array: list[Any], token: str, *, allow_end: bool) -> int:
    if allow_end and token == "-":
        return len(array)
    if not _INDEX.fullmatch(token):
        raise JsonPatchError(f"invalid array index: {token}")
    index = int(token)
    if index > len(array) or (index == len(array) and not allow_end):
        raise JsonPatchError(f"array index out of bounds: {index}")
    return index


def _resolve(doc: Any, tokens: list[str]) -> Any:
    node = doc
    for depth, token in enumerate(tokens):
        if isinstance(node, dict) and token in node:
            node = node[token]
        elif isinstance(node, list):
            node = node[_index(node, token, allow_end=False)]
        else:
            missing = "/" + "/".join(tokens[: depth + 1])
            raise JsonPatchError(f'doc is missing path: "{missing}": missing value')
    return node


def _insert(doc: Any, tokens: list[str], value: Any) -> Any:
    if not tokens:
        return value
    parent = _resolve(doc, tokens[:-1])
    if isinstance(parent, dict):
        parent[tokens[-1]] = value
    elif isinstance(parent, list):
        parent.insert(_index(parent, tokens[-1], allow_end=True), value)
    else:
        raise JsonPatchError("add operation does not apply: parent is not a container")
    return doc


def _take(doc: Any, tokens: list[str]) -> Any:
    if not tokens:
        raise JsonPatchError("remove operation does not apply: cannot remove the whole document")
    parent = _resolve(doc, tokens[:-1])
    if isinstance(parent, dict):
        if tokens[-1] not in parent:
            missing = "/" + "/".join(tokens)
            raise JsonPatchError(
                f'remove operation does not apply: doc is missing path: "{missing}"'
            )
        return parent.pop(tokens[-1])
    if isinstance(parent, list):
        return parent.pop(_index(parent, tokens[-1], allow_end=False))
    raise JsonPatchError("remove operation does not apply: parent is not a container")
