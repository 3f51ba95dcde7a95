"""DELETE of one object or of a filtered collection, including a Namespace and its contents."""

from __future__ import annotations

import orjson

from simcluster import resources
from simcluster.api.backend import ClusterBackend
from simcluster.api.bodies import DeleteOptions, Obj
from simcluster.api.listing import ListOptions
from simcluster.api.paths import ResourcePath
from simcluster.errors import ConflictError
from simcluster.store import ListResult


def delete_object(cluster: ClusterBackend, target: ResourcePath, options: DeleteOptions) -> Obj:
    """Delete one object (immediately; there are no finalizers or grace periods here).

    Deleting a Namespace deletes every object in it too.

    Raises:
        ApiError: 404 missing, 409 a precondition failed.
    """
    rt, name, store = target.resource, str(target.name), cluster.store
    with store.lock:
        current = store.get(rt, target.namespace, name)
        _check_preconditions(target, current, options)
        if options.dry_run:
            return current
        if rt is resources.NAMESPACES:
            _delete_namespace_contents(cluster, name)
        return cluster.delete(
            rt, target.namespace, name, propagation_policy=options.propagation_policy
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
                DeleteOptions(propagation_policy=options.propagation_policy),
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


def _delete_namespace_contents(cluster: ClusterBackend, namespace: str) -> None:
    store = cluster.store
    for rt in resources.ALL:
        if not rt.namespaced:
            continue
        for obj in store.list_objects(rt, namespace=namespace):
            # Owners go first and may take their dependents with them.
            if store.exists(rt, namespace, obj["metadata"]["name"]):
                cluster.delete(rt, namespace, obj["metadata"]["name"])
