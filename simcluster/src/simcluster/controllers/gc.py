"""The garbage collector: dependents go when their owner goes; a deleted namespace empties.

Deleting a namespace through the API only marks it Terminating, as in Kubernetes; the
namespace controller's part, here, empties it a moment later and then removes it. Until then,
what is in it can still be read and deleted (`kubectl delete -k` deletes the Namespace first
and its contents after), but nothing new can be created in it.
"""

from __future__ import annotations

import contextlib
from typing import Any

from simcluster import resources
from simcluster.controllers.context import Context
from simcluster.controllers.termination import delete_pod
from simcluster.errors import NotFoundError
from simcluster.watch import ChangeEvent

Obj = dict[str, Any]

# Kinds that carry ownerReferences in the simulated cluster.
DEPENDENT_TYPES = (
    resources.PODS,
    resources.REPLICASETS,
    resources.CONTROLLERREVISIONS,
    resources.ENDPOINTSLICES,
)

# Kinds that own others here (pods, events and the rest own nothing, so need no collection).
OWNER_TYPES = (
    resources.DAEMONSETS,
    resources.DEPLOYMENTS,
    resources.REPLICASETS,
    resources.SERVICES,
)


def remaining_owners(obj: Obj, gone_uid: str) -> list[Obj]:
    """The ownerReferences left once the owner ``gone_uid`` is removed."""
    return [r for r in obj["metadata"].get("ownerReferences") or [] if r.get("uid") != gone_uid]


def is_dependent(obj: Obj, owner_uid: str) -> bool:
    """Whether ``obj`` names ``owner_uid`` among its owners."""
    return any(r.get("uid") == owner_uid for r in obj["metadata"].get("ownerReferences") or [])


class GarbageCollector:
    """Deletes the dependents of deleted owners (background propagation).

    Args:
        ctx: The shared controller context.
    """

    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx
        self._orphaned: set[str] = set()

    def orphan(self, uid: str) -> None:
        """Mark an owner whose deletion leaves its dependents (``propagationPolicy: Orphan``)."""
        self._orphaned.add(uid)

    def on_deleted(self, event: ChangeEvent, obj: Obj) -> None:
        """Queue the collection of a deleted owner's dependents."""
        uid = obj["metadata"].get("uid", "")
        if event.resource is resources.NAMESPACES:
            self._ctx.runtime.enqueue(self.empty_namespace, event.name)
        elif uid and event.resource in OWNER_TYPES:
            self._ctx.runtime.enqueue(self.collect, f"{event.namespace}/{uid}")

    def collect(self, key: str) -> None:
        """Delete (or, when orphaned, release) every dependent of one owner."""
        namespace, _, uid = key.partition("/")
        orphan = uid in self._orphaned
        self._orphaned.discard(uid)
        for rt in DEPENDENT_TYPES:
            for obj in self._ctx.store.list_objects(rt, namespace=namespace or None):
                if not is_dependent(obj, uid):
                    continue
                left = remaining_owners(obj, uid)
                name = obj["metadata"]["name"]
                if orphan or left:

                    def release(current: Obj, left: list[Obj] = left) -> None:
                        if left:
                            current["metadata"]["ownerReferences"] = left
                        else:
                            current["metadata"].pop("ownerReferences", None)

                    self._apply(rt, namespace, name, release)
                elif rt is resources.PODS:
                    # Pods of a deleted workload terminate gracefully, as any deleted pod.
                    with contextlib.suppress(NotFoundError):
                        delete_pod(self._ctx.store, namespace, name)
                else:
                    self._remove(rt, namespace, name)

    def on_terminating(self, namespace: str) -> None:
        """Queue the finalization of a namespace marked for deletion."""
        delay = self._ctx.settings.namespace_finalize_delay
        self._ctx.runtime.schedule(delay, self.finalize_namespace, namespace)

    def finalize_namespace(self, namespace: str) -> None:
        """Delete everything in a terminating namespace, then the namespace."""
        self.empty_namespace(namespace)
        self._remove(resources.NAMESPACES, "", namespace)

    def empty_namespace(self, namespace: str) -> None:
        """Delete every object left in a deleted namespace."""
        for rt in resources.ALL:
            if not rt.namespaced:
                continue
            for raw_name in [
                o["metadata"]["name"] for o in self._ctx.store.list_objects(rt, namespace=namespace)
            ]:
                self._remove(rt, namespace, raw_name)

    def _apply(self, rt: resources.ResourceType, namespace: str, name: str, mutate: Any) -> None:
        # Deleted meanwhile.
        with contextlib.suppress(NotFoundError):
            self._ctx.store.update(rt, namespace, name, mutate)

    def _remove(self, rt: resources.ResourceType, namespace: str, name: str) -> None:
        # Deleted meanwhile.
        with contextlib.suppress(NotFoundError):
            self._ctx.store.delete(rt, namespace, name)
