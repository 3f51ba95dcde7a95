"""List and watch options from a query string, and list bodies assembled from stored bytes."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass

import orjson

from simcluster.errors import BadRequestError
from simcluster.resources import ResourceType
from simcluster.selectors import (
    FieldSelector,
    LabelSelector,
    SelectorError,
    parse_field_selector,
    parse_label_selector,
)
from simcluster.store import ListResult, supports_field


@dataclass(frozen=True)
class ListOptions:
    """The query parameters of a list or watch.

    Attributes:
        label_selector: Parsed ``labelSelector``.
        field_selector: Parsed ``fieldSelector``.
        limit: Page size (``limit``); None for everything.
        offset: Where the page starts, decoded from ``continue``.
        resource_version: ``resourceVersion`` as given ('' when absent).
        timeout_seconds: ``timeoutSeconds`` of a watch; None when absent.
    """

    label_selector: LabelSelector
    field_selector: FieldSelector
    limit: int | None = None
    offset: int = 0
    resource_version: str = ""
    timeout_seconds: float | None = None


def parse_list_options(rt: ResourceType, query: Mapping[str, str]) -> ListOptions:
    """Read list/watch options from the query string.

    Raises:
        BadRequestError: a malformed selector, limit, continue token or timeout.
    """
    try:
        labels = parse_label_selector(query.get("labelSelector"))
        fields = parse_field_selector(query.get("fieldSelector"), supported=supports_field(rt))
    except SelectorError as error:
        raise BadRequestError(str(error)) from error
    limit = _non_negative_int(query, "limit")
    timeout = _non_negative_int(query, "timeoutSeconds")
    return ListOptions(
        label_selector=labels,
        field_selector=fields,
        limit=limit or None,
        offset=decode_continue(query.get("continue") or ""),
        resource_version=query.get("resourceVersion") or "",
        timeout_seconds=float(timeout) if timeout is not None else None,
    )


def _non_negative_int(query: Mapping[str, str], key: str) -> int | None:
    raw = query.get(key)
    if raw is None or raw == "":
        return None
    try:
        value = int(raw)
    except ValueError as error:
        raise BadRequestError(f"invalid value {raw!r} for {key}: not an integer") from error
    if value < 0:
        raise BadRequestError(f"invalid value {raw!r} for {key}: must not be negative")
    return value


def encode_continue(offset: int, resource_version: int) -> str:
    """An opaque continue token for the page starting at ``offset``."""
    token = orjson.dumps({"rv": resource_version, "start": offset})
    return base64.urlsafe_b64encode(token).decode()


def decode_continue(token: str) -> int:
    """The offset a continue token points at (0 for no token).

    Raises:
        BadRequestError: the token was not issued by this server.
    """
    if not token:
        return 0
    try:
        decoded = orjson.loads(base64.urlsafe_b64decode(token.encode()))
        start = int(decoded["start"])
    except (binascii.Error, orjson.JSONDecodeError, KeyError, TypeError, ValueError) as error:
        raise BadRequestError(f"continue key is not valid: {token}") from error
    return max(start, 0)


def list_body(rt: ResourceType, result: ListResult, options: ListOptions) -> bytes:
    """Assemble the list response from stored bytes, without decoding any item.

    Returns:
        The serialized ``<Kind>List`` with ``metadata.resourceVersion`` (and ``continue`` and
        ``remainingItemCount`` when a ``limit`` cut the list short).
    """
    items = result.items
    end = len(items)
    meta: dict[str, object] = {"resourceVersion": str(result.resource_version)}
    if options.limit is not None and options.offset + options.limit < len(items):
        end = options.offset + options.limit
        meta["continue"] = encode_continue(end, result.resource_version)
        meta["remainingItemCount"] = len(items) - end
    page = items[options.offset : end] if options.offset or end < len(items) else items
    head = orjson.dumps({"kind": rt.list_kind, "apiVersion": rt.api_version, "metadata": meta})
    return b"".join((head[:-1], b',"items":[', b",".join(page), b"]}"))
