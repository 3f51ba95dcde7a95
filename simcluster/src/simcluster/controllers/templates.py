"""Pods made from a workload's pod template, as the DaemonSet and ReplicaSet controllers do."""

from __future__ import annotations

import copy
from typing import Any

from simcluster.controllers.context import owner_reference

Obj = dict[str, Any]


def pod_from_template(
    template: Obj,
    *,
    name: str,
    owner: Obj,
    extra_labels: dict[str, str],
    node_name: str | None = None,
) -> Obj:
    """A new Pod object from ``template``, owned by ``owner``.

    Args:
        template: The workload's ``spec.template``.
        name: The pod's name.
        owner: The controlling DaemonSet or ReplicaSet.
        extra_labels: Labels the controller adds (revision or template hash).
        node_name: Bind directly to this node (DaemonSet pods).
    """
    meta = template.get("metadata") or {}
    spec = copy.deepcopy(template.get("spec") or {})
    labels = {**(meta.get("labels") or {}), **extra_labels}
    pod_meta: Obj = {
        "name": name,
        "generateName": f"{owner['metadata']['name']}-",
        "namespace": owner["metadata"]["namespace"],
        "labels": labels,
        "ownerReferences": [owner_reference(owner)],
    }
    if meta.get("annotations"):
        pod_meta["annotations"] = dict(meta["annotations"])
    if node_name is not None:
        spec["nodeName"] = node_name
        spec["affinity"] = {
            "nodeAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": {
                    "nodeSelectorTerms": [
                        {
                            "matchFields": [
                                {"key": "metadata.name", "operator": "In", "values": [node_name]}
                            ]
                        }
                    ]
                }
            }
        }
        spec.setdefault("tolerations", daemon_tolerations())
    return {"apiVersion": "v1", "kind": "Pod", "metadata": pod_meta, "spec": spec}


def daemon_tolerations() -> list[Obj]:
    """The tolerations the DaemonSet controller adds so its pods survive node trouble."""
    keys = [
        ("node.kubernetes.io/not-ready", "NoExecute"),
        ("node.kubernetes.io/unreachable", "NoExecute"),
        ("node.kubernetes.io/disk-pressure", "NoSchedule"),
        ("node.kubernetes.io/memory-pressure", "NoSchedule"),
        ("node.kubernetes.io/pid-pressure", "NoSchedule"),
        ("node.kubernetes.io/unschedulable", "NoSchedule"),
    ]
    return [{"key": key, "operator": "Exists", "effect": effect} for key, effect in keys]


def owned_by(obj: Obj, uid: str) -> bool:
    """Whether ``obj`` has a controller ownerReference with this uid."""
    return any(
        ref.get("uid") == uid and ref.get("controller")
        for ref in obj["metadata"].get("ownerReferences") or []
    )
