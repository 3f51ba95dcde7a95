"""What every controller shares: the store, the worker, time, settings and fault state."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from simcluster import resources
from simcluster.allocation import PodAddresses
from simcluster.clock import Clock
from simcluster.controllers.events import EventRecorder
from simcluster.controllers.health import HealthRules
from simcluster.controllers.runtime import Runtime
from simcluster.errors import NotFoundError
from simcluster.objects import format_time
from simcluster.settings import SimSettings
from simcluster.store import Store

Obj = dict[str, Any]


@dataclass
class Context:
    """The shared dependencies of the controllers."""

    store: Store
    runtime: Runtime
    clock: Clock
    settings: SimSettings
    rng: random.Random
    events: EventRecorder
    health: HealthRules
    pod_addresses: PodAddresses

    def now(self) -> str:
        """The current time formatted for an object field."""
        return format_time(self.clock.now())

    def find(self, rt: resources.ResourceType, key: str) -> Obj | None:
        """The object at ``namespace/name`` (or ``name``), or None if it is gone."""
        namespace, _, name = key.rpartition("/")
        try:
            return self.store.get(rt, namespace or None, name)
        except NotFoundError:
            return None


def key_of(obj: Obj) -> str:
    """``namespace/name`` of an object."""
    meta = obj["metadata"]
    return f"{meta.get('namespace', '')}/{meta['name']}"


def controller_of(obj: Obj) -> Obj | None:
    """The ownerReference marked ``controller: true``, if any."""
    for ref in obj["metadata"].get("ownerReferences") or []:
        if ref.get("controller"):
            return dict(ref)
    return None


def owner_reference(owner: Obj) -> Obj:
    """A controller ownerReference pointing at ``owner``."""
    return {
        "apiVersion": owner["apiVersion"],
        "kind": owner["kind"],
        "name": owner["metadata"]["name"],
        "uid": owner["metadata"]["uid"],
        "controller": True,
        "blockOwnerDeletion": True,
    }


def node_ip(node: Obj) -> str:
    """A node's InternalIP."""
    for address in (node.get("status") or {}).get("addresses") or []:
        if address.get("type") == "InternalIP":
            return str(address["address"])
    return ""


def node_is_ready(node: Obj) -> bool:
    """Whether a node is Ready and schedulable."""
    if (node.get("spec") or {}).get("unschedulable"):
        return False
    for condition in (node.get("status") or {}).get("conditions") or []:
        if condition.get("type") == "Ready":
            return bool(condition.get("status") == "True")
    return False
