"""Serve one authorized resource request: the verb's work and its HTTP response."""

from __future__ import annotations

import dataclasses
from typing import Any

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp

from simcluster.api.backend import ClusterBackend
from simcluster.api.bodies import is_dry_run, parse_delete_options
from simcluster.api.deletion import delete_collection, delete_object
from simcluster.api.field_validation import FieldValidation, field_validation, warnings_for
from simcluster.api.listing import ListOptions, list_body, parse_list_options
from simcluster.api.paths import ResourcePath
from simcluster.api.podio import read_log
from simcluster.api.responses import json_response, raw_json
from simcluster.api.scale import serve_scale
from simcluster.api.tables import table_body, wants_table
from simcluster.api.watching import WatchHub, WatchStream, parse_since
from simcluster.api.writes import create_object, patch_object, replace_object
from simcluster.errors import BadRequestError
from simcluster.selectors import FieldRequirement, FieldSelector
from simcluster.store import ListResult


async def serve_resource(
    request: Request,
    cluster: ClusterBackend,
    target: ResourcePath,
    *,
    verb: str,
    hub: WatchHub,
) -> ASGIApp:
    """Carry out ``verb`` on ``target`` and build the apiserver's response.

    Raises:
        ApiError: whatever the operation fails with (rendered as a `Status` by the caller).
    """
    query = request.query_params
    store = cluster.store
    if target.subresource == "scale":
        return await serve_scale(request, cluster, target, verb=verb)
    match verb:
        case "get" if target.subresource == "log":
            return PlainTextResponse(await read_log(cluster, target, query))
        case "create" if target.subresource == "exec":
            raise BadRequestError("Upgrade request required")
        case "get":
            raw = store.get_raw(target.resource, target.namespace, str(target.name))
            if wants_table(request.headers.get("accept")):
                return raw_json(_table(cluster, target, ListResult([raw], store.resource_version)))
            return raw_json(raw)
        case "list":
            options = parse_list_options(target.resource, query)
            result = store.list(
                target.resource,
                namespace=target.namespace,
                label_selector=options.label_selector,
                field_selector=options.field_selector,
            )
            if wants_table(request.headers.get("accept")):
                return raw_json(_table(cluster, target, result))
            return raw_json(list_body(target.resource, result, options))
        case "watch":
            options = _for_single_object(parse_list_options(target.resource, query), target)
            since = parse_since(options.resource_version)
            return WatchStream(store, target.resource, target.namespace, options, since, hub)
        case "create" | "update" | "patch":
            validation = field_validation(query)
            written = await _write(request, cluster, target, verb=verb, validation=validation)
            response = json_response(written, 201 if verb == "create" else 200)
            return _with_warnings(response, target, written, validation)
        case "delete":
            delete_options = parse_delete_options(await request.body(), query)
            return json_response(delete_object(cluster, target, delete_options))
        case "deletecollection":
            list_options = parse_list_options(target.resource, query)
            delete_options = parse_delete_options(await request.body(), query)
            deleted = delete_collection(cluster, target, list_options, delete_options)
            unpaged = dataclasses.replace(list_options, limit=None, offset=0)
            return raw_json(list_body(target.resource, deleted, unpaged))
    raise BadRequestError(f"unsupported verb {verb}")


async def _write(
    request: Request,
    cluster: ClusterBackend,
    target: ResourcePath,
    *,
    verb: str,
    validation: FieldValidation,
) -> dict[str, Any]:
    body, dry_run = await request.body(), is_dry_run(request.query_params)
    strict = validation is FieldValidation.STRICT
    if verb == "create":
        return create_object(cluster, target, body, dry_run=dry_run, strict_fields=strict)
    if verb == "update":
        return replace_object(cluster, target, body, dry_run=dry_run, strict_fields=strict)
    return patch_object(
        cluster,
        target,
        body,
        content_type=request.headers.get("content-type", ""),
        dry_run=dry_run,
        strict_fields=strict,
    )


def _with_warnings(
    response: Response, target: ResourcePath, written: dict[str, Any], validation: FieldValidation
) -> Response:
    if validation is FieldValidation.WARN:
        for warning in warnings_for(target.resource, written):
            response.headers.append("Warning", warning)
    return response


def _table(cluster: ClusterBackend, target: ResourcePath, result: ListResult) -> bytes:
    return table_body(
        target.resource,
        result.items,
        resource_version=result.resource_version,
        now=cluster.store.clock(),
    )


def _for_single_object(options: ListOptions, target: ResourcePath) -> ListOptions:
    """A watch on ``.../{name}?watch=true`` watches the collection filtered to that name."""
    if target.name is None:
        return options
    pinned = FieldRequirement("metadata.name", target.name, negated=False)
    fields = FieldSelector((*options.field_selector.requirements, pinned))
    return dataclasses.replace(options, field_selector=fields)
