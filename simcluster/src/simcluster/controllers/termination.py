"""Graceful pod deletion: the apiserver marks a pod Terminating and its kubelet later removes it.

Deleting a pod that runs on a node does not remove it: the apiserver sets
``metadata.deletionTimestamp`` (now plus the grace period) and
``deletionGracePeriodSeconds``, and the pod stays, Terminating, until its kubelet has stopped
its containers and deletes it for good (`simcluster.controllers.kubelet`). A pod no node runs,
one already finished, or a delete asking for a grace period of 0 goes at once.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from simcluster import resources
from simcluster.objects import format_time
from simcluster.store import Store

Obj = dict[str, Any]

# What the apiserver defaults spec.terminationGracePeriodSeconds to.
DEFAULT_GRACE_SECONDS = 30
_TERMINAL_PHASES = ("Succeeded", "Failed")


def grace_period(pod: Obj, requested: int | None) -> int:
    """The grace period a delete gives a pod (the pod strategy's ``CheckGracefulDelete``).

    Args:
        pod: The pod being deleted.
        requested: The request's ``gracePeriodSeconds``; None for the pod's own
            ``spec.terminationGracePeriodSeconds``.
    """
    spec = pod.get("spec") or {}
    period = requested
    if period is None:
        own = spec.get("terminationGracePeriodSeconds")
        period = DEFAULT_GRACE_SECONDS if own is None else int(own)
    if not spec.get("nodeName"):
        # No kubelet has it: nothing to stop.
        return 0
    if (pod.get("status") or {}).get("phase") in _TERMINAL_PHASES:
        return 0
    # A negative grace period means "as soon as possible", which is one second.
    return 1 if period < 0 else period


def is_terminating(pod: Obj) -> bool:
    """Whether the pod is marked for deletion (Terminating)."""
    return bool(pod["metadata"].get("deletionTimestamp"))


def _parse(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def delete_pod(
    store: Store, namespace: str, name: str, *, grace_period_seconds: int | None = None
) -> Obj:
    """Delete a pod as the apiserver does: mark it Terminating, or remove it at once.

    A pod already Terminating keeps its deadline unless the request asks for a shorter grace
    period (0 removes it now), as in the generic registry's ``BeforeDelete``.

    Args:
        store: The object store.
        namespace: The pod's namespace.
        name: The pod's name.
        grace_period_seconds: The request's grace period (None: the pod's own).

    Returns:
        The pod as the delete left it: marked for deletion, or as it was last stored.

    Raises:
        NotFoundError: no such pod.
    """
    with store.lock:
        pod = store.get(resources.PODS, namespace, name)
        meta = pod["metadata"]
        current = meta.get("deletionGracePeriodSeconds")
        if meta.get("deletionTimestamp") and current:
            if grace_period_seconds is None or grace_period_seconds >= int(current):
                # Already on its way out, no sooner than asked.
                return pod
            period = max(grace_period_seconds, 0)
            started = _parse(str(meta["deletionTimestamp"])) - timedelta(seconds=int(current))
        elif meta.get("deletionTimestamp"):
            period, started = 0, store.clock()
        else:
            period, started = grace_period(pod, grace_period_seconds), store.clock()
        if period == 0:
            return store.delete(resources.PODS, namespace, name)
        deadline = format_time(started + timedelta(seconds=period))

        def mark(current_pod: Obj) -> None:
            current_pod["metadata"]["deletionTimestamp"] = deadline
            current_pod["metadata"]["deletionGracePeriodSeconds"] = period

        return store.update(resources.PODS, namespace, name, mark)
