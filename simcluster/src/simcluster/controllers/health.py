"""Which pods the simulated kubelet should make fail, and how (the faults' mutable state)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from simcluster.images import ImageRegistry
from simcluster.selectors import LabelSelector

KUBE_PROXY_LABEL = ("k8s-app", "kube-proxy")


class CrashCause(Enum):
    """Why a container keeps exiting."""

    BAD_IMAGE = "bad-image"
    KUBE_PROXY_SYNC = "kube-proxy-sync"


@dataclass
class HealthRules:
    """The conditions under which pods crash or fail readiness; faults edit these.

    Attributes:
        crashing_images: Images whose containers exit 1 right after start.
        kube_proxy_down_nodes: Nodes where every kube-proxy pod fails (iptables-restore
            errors): a node-level problem that survives restarts.
        kube_proxy_wedged_pods: Uids of kube-proxy pods that fail in the same way until they
            are deleted (their replacements run).
        unready: (namespace, selector) pairs whose pods fail their readiness probe.
        registry: The image registry kubelets pull from (unknown tags fail to pull).
    """

    crashing_images: set[str] = field(default_factory=set)
    kube_proxy_down_nodes: set[str] = field(default_factory=set)
    kube_proxy_wedged_pods: set[str] = field(default_factory=set)
    unready: list[tuple[str, LabelSelector]] = field(default_factory=list)
    registry: ImageRegistry = field(default_factory=ImageRegistry, repr=False)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def pull_error(self, pod: dict[str, Any]) -> tuple[str, str] | None:
        """The first of the pod's images that fails to pull, and why; None when all pull.

        A crashing image exists by definition (it has to pull to crash).
        """
        for container in (pod.get("spec") or {}).get("containers") or []:
            image = str(container.get("image") or "")
            with self.lock:
                crashing = image in self.crashing_images
                error = None if crashing else self.registry.pull_error(image)
            if error is not None:
                return image, error
        return None

    def crash_cause(self, pod: dict[str, Any]) -> CrashCause | None:
        """Why this pod's containers crash now, or None if they run."""
        spec = pod.get("spec") or {}
        with self.lock:
            images = {c.get("image") for c in spec.get("containers") or []}
            if images & self.crashing_images:
                return CrashCause.BAD_IMAGE
            meta = pod.get("metadata") or {}
            is_proxy = (meta.get("labels") or {}).get(KUBE_PROXY_LABEL[0]) == KUBE_PROXY_LABEL[1]
            if is_proxy and (
                spec.get("nodeName") in self.kube_proxy_down_nodes
                or meta.get("uid") in self.kube_proxy_wedged_pods
            ):
                return CrashCause.KUBE_PROXY_SYNC
        return None

    def readiness_fails(self, pod: dict[str, Any]) -> bool:
        """Whether this pod's readiness probe fails now."""
        meta = pod.get("metadata") or {}
        labels = meta.get("labels") or {}
        with self.lock:
            return any(
                ns == meta.get("namespace") and selector.matches(labels)
                for ns, selector in self.unready
            )
