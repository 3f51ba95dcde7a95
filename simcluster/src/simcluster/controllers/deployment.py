"""The Deployment controller: one ReplicaSet per template, the new one scaled up, old ones down."""

from __future__ import annotations

import copy
from typing import Any

from simcluster import resources
from simcluster.controllers.context import Context, controller_of, owner_reference
from simcluster.controllers.templates import owned_by
from simcluster.naming import template_hash
from simcluster.watch import ChangeEvent

Obj = dict[str, Any]
REVISION = "deployment.kubernetes.io/revision"


def old_replica_targets(
    old: list[tuple[str, int]], *, desired: int, new_ready: int
) -> dict[str, int]:
    """Scale old ReplicaSets (newest first, with their replicas) down as new pods become ready."""
    remaining = max(0, desired - new_ready)
    targets = {}
    for name, replicas in old:
        targets[name] = min(replicas, remaining)
        remaining -= targets[name]
    return targets


def _revision(rs: Obj) -> int:
    return int((rs["metadata"].get("annotations") or {}).get(REVISION, "0"))


class DeploymentController:
    """Rolls Deployments out through ReplicaSets.

    Args:
        ctx: The shared controller context.
    """

    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    def on_deployment(self, event: ChangeEvent) -> None:
        """Queue the changed Deployment."""
        if event.type != "DELETED":
            self._ctx.runtime.enqueue(self.reconcile, f"{event.namespace}/{event.name}")

    def on_replicaset(self, rs: Obj) -> None:
        """Queue the Deployment that controls a changed ReplicaSet."""
        ref = controller_of(rs)
        if ref and ref.get("kind") == "Deployment":
            self._ctx.runtime.enqueue(
                self.reconcile, f"{rs['metadata']['namespace']}/{ref['name']}"
            )

    def reconcile(self, key: str) -> None:
        """Converge one Deployment."""
        deploy = self._ctx.find(resources.DEPLOYMENTS, key)
        if deploy is None:
            return
        namespace, name = deploy["metadata"]["namespace"], deploy["metadata"]["name"]
        owned = [
            rs
            for rs in self._ctx.store.list_objects(resources.REPLICASETS, namespace=namespace)
            if owned_by(rs, deploy["metadata"]["uid"])
        ]
        hash_ = template_hash(deploy["spec"]["template"])
        desired = int(deploy["spec"].get("replicas", 1))
        new = next((rs for rs in owned if rs["metadata"]["name"] == f"{name}-{hash_}"), None)
        newest = max((_revision(rs) for rs in owned), default=0)
        if new is None:
            new = self._create_replicaset(deploy, hash_, desired, newest + 1)
        else:
            # Returning to an older template makes its ReplicaSet the newest revision again.
            current = _revision(new)
            self._scale(new, desired, revision=current if current == newest else newest + 1)
        new_name = new["metadata"]["name"]
        old = sorted(
            (rs for rs in owned if rs["metadata"]["name"] != new_name), key=_revision, reverse=True
        )
        new_ready = int((new.get("status") or {}).get("readyReplicas", 0))
        targets = old_replica_targets(
            [(rs["metadata"]["name"], int(rs["spec"].get("replicas", 0))) for rs in old],
            desired=desired,
            new_ready=new_ready,
        )
        for rs in old:
            self._scale(rs, targets[rs["metadata"]["name"]], revision=_revision(rs))
        self._write_status(deploy, new, owned, revision=_revision(new) or newest + 1)

    def _create_replicaset(self, deploy: Obj, hash_: str, replicas: int, revision: int) -> Obj:
        template = copy.deepcopy(deploy["spec"]["template"])
        template.setdefault("metadata", {}).setdefault("labels", {})["pod-template-hash"] = hash_
        match = dict((deploy["spec"].get("selector") or {}).get("matchLabels") or {})
        rs = {
            "metadata": {
                "name": f"{deploy['metadata']['name']}-{hash_}",
                "namespace": deploy["metadata"]["namespace"],
                "labels": dict(template["metadata"]["labels"]),
                "annotations": {
                    REVISION: str(revision),
                    "deployment.kubernetes.io/desired-replicas": str(replicas),
                },
                "ownerReferences": [owner_reference(deploy)],
            },
            "spec": {
                "replicas": replicas,
                "selector": {"matchLabels": {**match, "pod-template-hash": hash_}},
                "template": template,
            },
        }
        created = self._ctx.store.create(
            resources.REPLICASETS, rs, namespace=deploy["metadata"]["namespace"]
        )
        self._ctx.events.record(
            deploy,
            kind="Normal",
            reason="ScalingReplicaSet",
            message=f"Scaled up replica set {rs['metadata']['name']} to {replicas}",
            component="deployment-controller",
        )
        return created

    def _scale(self, rs: Obj, replicas: int, *, revision: int) -> None:
        def mutate(current: Obj) -> None:
            current["spec"]["replicas"] = replicas
            current["metadata"].setdefault("annotations", {})[REVISION] = str(revision)

        meta = rs["metadata"]
        self._ctx.store.update(resources.REPLICASETS, meta["namespace"], meta["name"], mutate)

    def _write_status(self, deploy: Obj, new: Obj, owned: list[Obj], *, revision: int) -> None:
        statuses = [rs.get("status") or {} for rs in owned]
        replicas = sum(int(s.get("replicas", 0)) for s in statuses)
        ready = sum(int(s.get("readyReplicas", 0)) for s in statuses)
        desired = int(deploy["spec"].get("replicas", 1))
        now = self._ctx.now()
        status = {
            "observedGeneration": int(deploy["metadata"].get("generation", 1)),
            "replicas": replicas,
            "updatedReplicas": int((new.get("status") or {}).get("replicas", 0)),
            "readyReplicas": ready,
            "availableReplicas": ready,
            "unavailableReplicas": max(0, desired - ready),
        }
        available = ready >= desired
        conditions = [
            {
                "type": "Available",
                "status": "True" if available else "False",
                "reason": "MinimumReplicasAvailable" if available else "MinimumReplicasUnavailable",
                "message": "Deployment has minimum availability."
                if available
                else "Deployment does not have minimum availability.",
                "lastUpdateTime": now,
                "lastTransitionTime": now,
            }
        ]

        def mutate(current: Obj) -> None:
            old = {c["type"]: c for c in (current.get("status") or {}).get("conditions") or []}
            for condition in conditions:
                previous = old.get(condition["type"])
                if previous and previous.get("status") == condition["status"]:
                    condition["lastTransitionTime"] = previous["lastTransitionTime"]
                    condition["lastUpdateTime"] = previous["lastUpdateTime"]
            current["status"] = {**status, "conditions": conditions}
            current["metadata"].setdefault("annotations", {})[REVISION] = str(revision)

        meta = deploy["metadata"]
        self._ctx.store.update(resources.DEPLOYMENTS, meta["namespace"], meta["name"], mutate)
