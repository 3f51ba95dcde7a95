"""Create, replace and patch through the API: admission, dry runs and the store write."""

from __future__ import annotations

import copy
from datetime import UTC, datetime

from simcluster import resources
from simcluster.api.backend import ClusterBackend
from simcluster.api.bodies import Obj, decode_object
from simcluster.api.field_validation import reject_unknown_fields
from simcluster.api.paths import ResourcePath
from simcluster.errors import (
    AlreadyExistsError,
    BadRequestError,
    ConflictError,
    ForbiddenError,
    MethodNotAllowedError,
    UnsupportedMediaTypeError,
)
from simcluster.patching import PatchType, apply_patch, parse_patch_type
from simcluster.resources import ResourceType
from simcluster.store import format_time

# A CRD's objects have no Go type to read a strategic merge patch's strategies from.
_CUSTOM_PATCH_TYPES = (
    "the body of the request was in an unknown format - accepted media types include: "
    f"{PatchType.JSON}, {PatchType.MERGE}, application/apply-patch+yaml"
)


def create_object(
    cluster: ClusterBackend,
    target: ResourcePath,
    body: bytes,
    *,
    dry_run: bool,
    strict_fields: bool = False,
) -> Obj:
    """POST to a collection: admit, then store (or, for a dry run, only validate).

    Raises:
        ApiError: 400 malformed (or, with ``strict_fields``, naming an unknown field), 403
            in a terminating namespace, 404 missing namespace, 409 name taken, 422 invalid.
    """
    rt = target.resource
    if rt.namespaced and target.namespace is None:
        raise MethodNotAllowedError(
            "the server does not allow this method on the requested resource"
        )
    obj = decode_object(rt, body)
    if strict_fields:
        reject_unknown_fields(rt, obj, decoded=True)
    meta = obj["metadata"]
    if target.namespace is not None:
        if meta.get("namespace") not in (None, "", target.namespace):
            raise BadRequestError(
                "the namespace of the provided object does not match the namespace sent on "
                "the request"
            )
        meta["namespace"] = target.namespace
    store = cluster.store
    with store.lock:
        name = meta.get("name")
        if target.namespace is not None:
            namespace = store.get(resources.NAMESPACES, None, target.namespace)
            _refuse_if_terminating(namespace, rt, name or "")
        # Checked before admission, which would otherwise allocate addresses for a doomed create.
        if name and store.exists(rt, target.namespace, name):
            raise AlreadyExistsError.of(rt, name)
        if not dry_run:
            return cluster.create(obj)
        cluster.admission.admit(rt, obj, old=None)
        meta.setdefault("creationTimestamp", format_time(datetime.now(UTC)))
        return obj


def replace_object(
    cluster: ClusterBackend,
    target: ResourcePath,
    body: bytes,
    *,
    dry_run: bool,
    strict_fields: bool = False,
) -> Obj:
    """PUT an object or its status, honouring ``metadata.resourceVersion`` (409 when stale).

    Raises:
        ApiError: 400 malformed, renamed or (``strict_fields``) naming an unknown field, 404
            missing, 409 stale, 422 invalid.
    """
    rt, name = target.resource, str(target.name)
    obj = decode_object(rt, body)
    if strict_fields:
        reject_unknown_fields(rt, obj, decoded=True)
    meta = obj["metadata"]
    if meta.setdefault("name", name) != name:
        raise BadRequestError(
            f"the name of the object ({meta['name']}) does not match the name on the URL ({name})"
        )
    if target.namespace is not None:
        meta["namespace"] = target.namespace
    store = cluster.store
    with store.lock:
        current = store.get(rt, target.namespace, name)
        expected = meta.get("resourceVersion")
        if expected and str(expected) != current["metadata"]["resourceVersion"]:
            raise ConflictError.stale(rt, name)
        candidate = _as_written(
            current,
            obj,
            status_only=target.subresource == "status",
            keeps_status="status" in rt.subresources,
        )
        cluster.admission.admit(rt, candidate, old=current)
        if dry_run:
            return candidate
        return store.replace(rt, candidate, subresource=target.subresource or None)


def patch_object(
    cluster: ClusterBackend,
    target: ResourcePath,
    body: bytes,
    *,
    content_type: str,
    dry_run: bool,
    strict_fields: bool = False,
) -> Obj:
    """PATCH an object or its status with a merge, JSON or strategic-merge patch.

    Raises:
        ApiError: 415 unknown patch type (or a strategic merge patch of a custom resource),
            400/422 bad patch (400 too for an unknown field with ``strict_fields``), 404
            missing, 409 stale.
    """
    rt, name = target.resource, str(target.name)
    if rt.custom and parse_patch_type(content_type) is PatchType.STRATEGIC_MERGE:
        raise UnsupportedMediaTypeError(_CUSTOM_PATCH_TYPES)
    store = cluster.store
    with store.lock:
        current = store.get(rt, target.namespace, name)
        patched = apply_patch(current, body, content_type)
        if strict_fields:
            reject_unknown_fields(rt, patched, decoded=False)
        candidate = _as_written(
            current,
            patched,
            status_only=target.subresource == "status",
            keeps_status="status" in rt.subresources,
        )
        cluster.admission.admit(rt, candidate, old=current)
        if dry_run:
            return candidate
        return store.replace(rt, candidate, subresource=target.subresource or None)


def _refuse_if_terminating(namespace: Obj, rt: ResourceType, name: str) -> None:
    """The NamespaceLifecycle admission plugin: nothing new in a namespace being deleted."""
    if not namespace["metadata"].get("deletionTimestamp"):
        return
    ns = namespace["metadata"]["name"]
    qualified = f"{rt.plural}.{rt.group}" if rt.group else rt.plural
    subject = f'{qualified} "{name}"' if name else qualified
    cause = {
        "reason": "NamespaceTerminating",
        "message": f"namespace {ns} is being terminated",
        "field": "metadata.namespace",
    }
    details = {"name": name, "group": rt.group, "kind": rt.plural, "causes": [cause]}
    raise ForbiddenError(
        f"{subject} is forbidden: unable to create new content in namespace {ns} because it is "
        "being terminated",
        details={k: v for k, v in details.items() if v},
    )


def _as_written(current: Obj, sent: Obj, *, status_only: bool, keeps_status: bool) -> Obj:
    """The object a write would produce: only the status for a status write, and the stored
    status kept for a main-resource write of a type with a status subresource."""
    if status_only:
        result = copy.deepcopy(current)
        result["status"] = sent.get("status", {})
        return result
    result = dict(sent)
    meta = dict(sent.get("metadata") or {})
    for key in ("name", "namespace", "uid", "creationTimestamp", "generation", "resourceVersion"):
        if key in current["metadata"]:
            meta[key] = current["metadata"][key]
        else:
            meta.pop(key, None)
    result["metadata"] = meta
    if keeps_status:
        if "status" in current:
            result["status"] = copy.deepcopy(current["status"])
        else:
            result.pop("status", None)
    return result
