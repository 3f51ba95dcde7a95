"""The DaemonSet controller: a pod per eligible node, ControllerRevisions, rolling updates."""

from __future__ import annotations

import contextlib
from typing import Any

from simcluster import resources
from simcluster.controllers.context import (
    Context,
    controller_of,
    key_of,
    node_is_ready,
    owner_reference,
)
from simcluster.controllers.podstatus import is_ready
from simcluster.controllers.revisions import plan_revision, revision_data, revisions_to_prune
from simcluster.controllers.rollout import (
    NodePods,
    PodSummary,
    daemon_status,
    plan_daemonset,
    scaled_value,
)
from simcluster.controllers.scheduler import node_matches
from simcluster.controllers.templates import owned_by, pod_from_template
from simcluster.controllers.termination import delete_pod, is_terminating
from simcluster.errors import AlreadyExistsError, NotFoundError
from simcluster.naming import unique_name
from simcluster.selectors import selector_from_match_labels
from simcluster.watch import ChangeEvent

Obj = dict[str, Any]


class DaemonSetController:
    """Keeps every DaemonSet's pods, revisions and status in line with its spec.

    Args:
        ctx: The shared controller context.
    """

    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    def on_daemonset(self, event: ChangeEvent) -> None:
        """Queue the changed DaemonSet."""
        if event.type != "DELETED":
            self._ctx.runtime.enqueue(self.reconcile, f"{event.namespace}/{event.name}")

    def on_pod(self, pod: Obj) -> None:
        """Queue the DaemonSet that controls a changed pod."""
        ref = controller_of(pod)
        if ref and ref.get("kind") == "DaemonSet":
            self._ctx.runtime.enqueue(
                self.reconcile, f"{pod['metadata']['namespace']}/{ref['name']}"
            )

    def on_node(self) -> None:
        """Queue every DaemonSet (a node came, went or changed readiness)."""
        for ds in self._ctx.store.list_objects(resources.DAEMONSETS):
            self._ctx.runtime.enqueue(self.reconcile, key_of(ds))

    def reconcile(self, key: str) -> None:
        """Converge one DaemonSet."""
        ds = self._ctx.find(resources.DAEMONSETS, key)
        if ds is None:
            return
        template = ds["spec"]["template"]
        current_hash = self._sync_revisions(ds, template)
        slots, ready = self._observe(ds, current_hash)
        strategy = ds["spec"].get("updateStrategy") or {}
        rolling = strategy.get("type", "RollingUpdate") == "RollingUpdate"
        desired = sum(1 for s in slots if s.eligible)
        max_unavailable = scaled_value(
            (strategy.get("rollingUpdate") or {}).get("maxUnavailable"), desired
        )
        plan = plan_daemonset(slots, max_unavailable=max_unavailable, rolling=rolling)
        namespace = ds["metadata"]["namespace"]
        for name in plan.delete:
            self._delete_pod(ds, namespace, name)
        generation = int(ds["metadata"].get("generation", 1))
        for node in plan.create_on:
            self._create_pod(ds, template, node, current_hash, generation)
        status = daemon_status(slots, generation=generation, ready=ready)

        def write(current: Obj) -> None:
            current["status"] = {**(current.get("status") or {}), **status}

        self._ctx.store.update(resources.DAEMONSETS, namespace, ds["metadata"]["name"], write)

    def _sync_revisions(self, ds: Obj, template: Obj) -> str:
        namespace, name, uid = (
            ds["metadata"]["namespace"],
            ds["metadata"]["name"],
            ds["metadata"]["uid"],
        )
        existing = [
            r
            for r in self._ctx.store.list_objects(
                resources.CONTROLLERREVISIONS, namespace=namespace
            )
            if owned_by(r, uid)
        ]
        plan = plan_revision(name, template, existing)
        if plan.create:
            selector_labels = (ds["spec"].get("selector") or {}).get("matchLabels") or {}
            revision = {
                "metadata": {
                    "name": plan.name,
                    "namespace": namespace,
                    "labels": {**selector_labels, "controller-revision-hash": plan.hash},
                    "ownerReferences": [owner_reference(ds)],
                },
                "data": revision_data(template),
                "revision": plan.number,
            }
            # A revision of this name from an earlier owner; the next pass adopts it.
            with contextlib.suppress(AlreadyExistsError):
                self._ctx.store.create(resources.CONTROLLERREVISIONS, revision, namespace=namespace)
        elif plan.renumber:

            def renumber(current: Obj) -> None:
                current["revision"] = plan.number

            self._ctx.store.update(resources.CONTROLLERREVISIONS, namespace, plan.name, renumber)
        limit = int(ds["spec"].get("revisionHistoryLimit", 10))
        for old in revisions_to_prune(existing, keep=limit, current=plan.name):
            self._delete(resources.CONTROLLERREVISIONS, namespace, old)
        return plan.hash

    def _observe(self, ds: Obj, current_hash: str) -> tuple[list[NodePods], int]:
        namespace, uid = ds["metadata"]["namespace"], ds["metadata"]["uid"]
        by_node: dict[str, list[PodSummary]] = {}
        ready = 0
        selector = (ds["spec"].get("selector") or {}).get("matchLabels") or {}
        pods = self._ctx.store.list_objects(
            resources.PODS, namespace=namespace, label_selector=selector_from_match_labels(selector)
        )
        for pod in pods:
            labels = pod["metadata"].get("labels") or {}
            # A terminating pod is on its way out: the node needs a new one now (as the
            # DaemonSet controller skips pods with a deletionTimestamp).
            if not owned_by(pod, uid) or is_terminating(pod):
                continue
            pod_ready = is_ready(pod)
            ready += pod_ready
            summary = PodSummary(
                pod["metadata"]["name"],
                updated=labels.get("controller-revision-hash") == current_hash,
                available=pod_ready,
                created=pod["metadata"].get("creationTimestamp", ""),
            )
            by_node.setdefault(pod["spec"].get("nodeName") or "", []).append(summary)
        template = {"spec": ds["spec"]["template"].get("spec") or {}}
        slots = []
        for node in self._ctx.store.list_objects(resources.NODES):
            name = node["metadata"]["name"]
            eligible = node_is_ready(node) and node_matches(template, node)
            slots.append(NodePods(name, eligible, tuple(by_node.pop(name, ()))))
        slots.extend(NodePods(node, False, tuple(pods)) for node, pods in by_node.items())
        return slots, ready

    def _create_pod(self, ds: Obj, template: Obj, node: str, hash_: str, generation: int) -> None:
        namespace = ds["metadata"]["namespace"]
        name = unique_name(
            f"{ds['metadata']['name']}-",
            self._ctx.rng,
            lambda n: self._ctx.store.exists(resources.PODS, namespace, n),
        )
        labels = {"controller-revision-hash": hash_, "pod-template-generation": str(generation)}
        pod = pod_from_template(template, name=name, owner=ds, extra_labels=labels, node_name=node)
        self._ctx.store.create(resources.PODS, pod, namespace=namespace)
        self._ctx.events.record(
            ds,
            kind="Normal",
            reason="SuccessfulCreate",
            message=f"Created pod: {name}",
            component="daemonset-controller",
        )

    def _delete_pod(self, ds: Obj, namespace: str, name: str) -> None:
        try:
            delete_pod(self._ctx.store, namespace, name)
        except NotFoundError:
            return
        self._ctx.events.record(
            ds,
            kind="Normal",
            reason="SuccessfulDelete",
            message=f"Deleted pod: {name}",
            component="daemonset-controller",
        )

    def _delete(self, rt: resources.ResourceType, namespace: str, name: str) -> bool:
        try:
            self._ctx.store.delete(rt, namespace, name)
        except NotFoundError:
            return False
        return True
