"""DELETE of one object or of a filtered collection; a Namespace only begins to terminate."""

from __future__ import annotations

import functools

import orjson

from simcluster import resources
from simcluster.api.backend import ClusterBackend
from simcluster.api.bodies import DeleteOptions, Obj
from simcluster.api.listing import ListOptions
from simcluster.api.paths import ResourcePath
from simcluster.errors import ConflictError
from simcluster.store import ListResult, format_time


def delete_object(cluster: ClusterBackend, target: ResourcePath, options: DeleteOptions) -> Obj:
    """Delete one object (immediately, but for pods and namespaces; there are no finalizers).

    A Namespace is only marked Terminating: the namespace controller empties and removes it.
    A pod on a node is marked Terminating for its grace period; its kubelet then removes it.

    Raises:
        ApiError: 404 missing, 409 a precondition failed.
    """
    rt, name, store = target.resource, str(target.name), cluster.store
    with store.lock:
        current = store.get(rt, target.namespace, name)
        _check_preconditions(target, current, options)
        if rt is resources.NAMESPACES:
            mark = functools.partial(_terminating, now=format_time(store.clock()))
            if options.dry_run:
                mark(current)
                return current
            return store.update(rt, None, name, mark)
        if options.dry_run:
            return current
        return cluster.delete(
            rt,
            target.namespace,
            name,
            propagation_policy=options.propagation_policy,
            grace_period_seconds=options.grace_period_seconds,
        )


def delete_collection(
    cluster: ClusterBackend,
    target: ResourcePath,
    list_options: ListOptions,
    options: DeleteOptions,
) -> ListResult:
    """Delete every object of a collection that the selectors match.

    Returns:
        The deleted objects as they were last stored, and the revision after the deletions.
    """
    rt, store = target.resource, cluster.store
    with store.lock:
        matched = store.list_objects(
            rt,
            namespace=target.namespace,
            label_selector=list_options.label_selector,
            field_selector=list_options.field_selector,
        )
        if options.dry_run:
            return store.list(
                rt,
                namespace=target.namespace,
                label_selector=list_options.label_selector,
                field_selector=list_options.field_selector,
            )
        deleted: list[bytes] = []
        for obj in matched:
            meta = obj["metadata"]
            gone = delete_object(
                cluster,
                ResourcePath(rt, meta.get("namespace"), meta["name"]),
                DeleteOptions(
                    propagation_policy=options.propagation_policy,
                    grace_period_seconds=options.grace_period_seconds,
                ),
            )
            deleted.append(orjson.dumps(gone))
        return ListResult(deleted, store.resource_version)


def _check_preconditions(target: ResourcePath, obj: Obj, options: DeleteOptions) -> None:
    meta = obj["metadata"]
    if options.uid is not None and meta.get("uid") != options.uid:
        raise ConflictError(
            f"Precondition failed: UID in precondition: {options.uid}, UID in object meta: "
            f"{meta.get('uid')}"
        )
    if (
        options.resource_version is not None
        and meta.get("resourceVersion") != options.resource_version
    ):
        raise ConflictError.stale(target.resource, str(target.name))


def _terminating(namespace: Obj, *, now: str) -> None:
    """Mark a Namespace as the apiserver does when asked to delete it (kept if already so)."""
    namespace["metadata"].setdefault("deletionTimestamp", now)
    namespace.setdefault("spec", {})["finalizers"] = ["kubernetes"]
    namespace.setdefault("status", {})["phase"] = "Terminating"
