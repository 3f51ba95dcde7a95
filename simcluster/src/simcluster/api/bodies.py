"""Decoding request bodies and the request options that come with writes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from simcluster.errors import BadRequestError
from simcluster.resources import ResourceType

Obj = dict[str, Any]

_PROPAGATION_POLICIES = frozenset({"Orphan", "Background", "Foreground"})


def decode_json(body: bytes) -> Any:
    """Parse a JSON request body.

    Raises:
        BadRequestError: the body is not JSON.
    """
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise BadRequestError(
            f"the body of the request was in an unknown format: {error}"
        ) from error


def decode_object(rt: ResourceType, body: bytes) -> Obj:
    """Parse an object sent for create or replace, checking it is of the URL's kind.

    Raises:
        BadRequestError: not a JSON object, or of another kind or API version.
    """
    obj = decode_json(body)
    if not isinstance(obj, dict):
        raise BadRequestError("the body of the request must be a JSON object")
    kind, api_version = obj.get("kind"), obj.get("apiVersion")
    if kind and kind != rt.kind:
        raise BadRequestError(
            f"the kind in the data ({kind}) does not match the expected kind ({rt.kind})"
        )
    if api_version and api_version != rt.api_version:
        raise BadRequestError(
            f"the API version in the data ({api_version}) does not match the expected API "
            f"version ({rt.api_version})"
        )
    obj["kind"], obj["apiVersion"] = rt.kind, rt.api_version
    if not isinstance(obj.setdefault("metadata", {}), dict):
        raise BadRequestError("metadata must be an object")
    return obj


def is_dry_run(query: Mapping[str, str]) -> bool:
    """Tell whether ``dryRun=All`` was asked for.

    Raises:
        BadRequestError: an unknown dryRun value (the apiserver accepts only ``All``).
    """
    value = query.get("dryRun")
    if value is None or value == "":
        return False
    if value != "All":
        raise BadRequestError(f'Invalid value: "{value}": supported values: "All"')
    return True


@dataclass(frozen=True)
class DeleteOptions:
    """What a DELETE asked for.

    Attributes:
        uid: Precondition: the object's uid must be this.
        resource_version: Precondition: the object's resourceVersion must be this.
        propagation_policy: Orphan, Background or Foreground; None for the type's default.
        dry_run: Validate only; delete nothing.
        grace_period_seconds: How long a pod may take to stop; None for its own setting.
    """

    uid: str | None = None
    resource_version: str | None = None
    propagation_policy: str | None = None
    dry_run: bool = False
    grace_period_seconds: int | None = None


def parse_delete_options(body: bytes, query: Mapping[str, str]) -> DeleteOptions:
    """Read DeleteOptions from the body (if any) and the query string.

    Raises:
        BadRequestError: a malformed body or an unknown propagation policy.
    """
    options: Obj = {}
    if body.strip():
        decoded = decode_json(body)
        if not isinstance(decoded, dict):
            raise BadRequestError("DeleteOptions must be a JSON object")
        options = decoded
    preconditions = options.get("preconditions") or {}
    policy = query.get("propagationPolicy") or options.get("propagationPolicy")
    if policy is not None and policy not in _PROPAGATION_POLICIES:
        raise BadRequestError(
            f'propagationPolicy: Unsupported value: "{policy}": supported values: '
            '"Foreground", "Background", "Orphan"'
        )
    dry_run_values = options.get("dryRun") or []
    return DeleteOptions(
        uid=preconditions.get("uid"),
        resource_version=preconditions.get("resourceVersion"),
        propagation_policy=policy,
        dry_run=is_dry_run(query) or "All" in dry_run_values,
        grace_period_seconds=_grace_period(query.get("gracePeriodSeconds"), options),
    )


def _grace_period(from_query: str | None, options: Obj) -> int | None:
    """``gracePeriodSeconds`` from the query string, else from the DeleteOptions body.

    Raises:
        BadRequestError: not an integer.
    """
    value: object = from_query if from_query is not None else options.get("gracePeriodSeconds")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise BadRequestError(f"gracePeriodSeconds: Invalid value: {value!r}: must be an integer")
    try:
        return int(value)
    except ValueError as error:
        raise BadRequestError(
            f"gracePeriodSeconds: Invalid value: {value!r}: must be an integer"
        ) from error
