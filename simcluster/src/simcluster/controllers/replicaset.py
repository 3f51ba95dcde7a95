"""The ReplicaSet controller: keep ``spec.replicas`` pods, report how many are ready."""

from __future__ import annotations

from typing import Any

from simcluster import resources
from simcluster.controllers.context import Context, controller_of
from simcluster.controllers.podstatus import is_ready
from simcluster.controllers.templates import owned_by, pod_from_template
from simcluster.controllers.termination import delete_pod, is_terminating
from simcluster.errors import NotFoundError
from simcluster.naming import unique_name
from simcluster.selectors import selector_from_match_labels
from simcluster.watch import ChangeEvent

Obj = dict[str, Any]


def pods_to_remove(pods: list[Obj], surplus: int) -> list[str]:
    """Which pods a scale-down deletes first: unscheduled, then not ready, then the newest."""

    def rank(pod: Obj) -> tuple[bool, bool, str]:
        created = pod["metadata"].get("creationTimestamp", "")
        return (bool(pod["spec"].get("nodeName")), is_ready(pod), _inverted(created))

    return [p["metadata"]["name"] for p in sorted(pods, key=rank)[: max(0, surplus)]]


def _inverted(text: str) -> str:
    return "".join(chr(0x10FFFF - ord(c)) for c in text)


class ReplicaSetController:
    """Creates and deletes pods so each ReplicaSet has its replicas.

    Args:
        ctx: The shared controller context.
    """

    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    def on_replicaset(self, event: ChangeEvent) -> None:
        """Queue the changed ReplicaSet."""
        if event.type != "DELETED":
            self._ctx.runtime.enqueue(self.reconcile, f"{event.namespace}/{event.name}")

    def on_pod(self, pod: Obj) -> None:
        """Queue the ReplicaSet that controls a changed pod."""
        ref = controller_of(pod)
        if ref and ref.get("kind") == "ReplicaSet":
            self._ctx.runtime.enqueue(
                self.reconcile, f"{pod['metadata']['namespace']}/{ref['name']}"
            )

    def reconcile(self, key: str) -> None:
        """Converge one ReplicaSet."""
        rs = self._ctx.find(resources.REPLICASETS, key)
        if rs is None:
            return
        namespace, name = rs["metadata"]["namespace"], rs["metadata"]["name"]
        selector = selector_from_match_labels(
            (rs["spec"].get("selector") or {}).get("matchLabels") or {}
        )
        pods = [
            p
            for p in self._ctx.store.list_objects(
                resources.PODS, namespace=namespace, label_selector=selector
            )
            # Only active pods count: a terminating one is replaced at once (FilterActivePods).
            if owned_by(p, rs["metadata"]["uid"]) and not is_terminating(p)
        ]
        wanted = int(rs["spec"].get("replicas", 1))
        for _ in range(wanted - len(pods)):
            self._create(rs)
        for pod_name in pods_to_remove(pods, len(pods) - wanted):
            try:
                delete_pod(self._ctx.store, namespace, pod_name)
            except NotFoundError:
                continue
        ready = sum(1 for p in pods if is_ready(p))
        status = {
            "replicas": len(pods),
            "fullyLabeledReplicas": len(pods),
            "readyReplicas": ready,
            "availableReplicas": ready,
            "observedGeneration": int(rs["metadata"].get("generation", 1)),
        }

        def write(current: Obj) -> None:
            current["status"] = status

        self._ctx.store.update(resources.REPLICASETS, namespace, name, write)

    def _create(self, rs: Obj) -> None:
        namespace = rs["metadata"]["namespace"]
        name = unique_name(
            f"{rs['metadata']['name']}-",
            self._ctx.rng,
            lambda n: self._ctx.store.exists(resources.PODS, namespace, n),
        )
        labels = {
            "pod-template-hash": (rs["metadata"].get("labels") or {}).get("pod-template-hash", "")
        }
        pod = pod_from_template(rs["spec"]["template"], name=name, owner=rs, extra_labels=labels)
        self._ctx.store.create(resources.PODS, pod, namespace=namespace)
        self._ctx.events.record(
            rs,
            kind="Normal",
            reason="SuccessfulCreate",
            message=f"Created pod: {name}",
            component="replicaset-controller",
        )
