"""Pure DaemonSet decisions: which pods to create and delete, and the status counters."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class PodSummary:
    """What the DaemonSet controller needs to know about one of its pods."""

    name: str
    updated: bool
    available: bool
    created: str = ""


@dataclass(frozen=True)
class NodePods:
    """One node, whether the DaemonSet should run there, and its pods on it."""

    node: str
    eligible: bool
    pods: tuple[PodSummary, ...] = ()


@dataclass(frozen=True)
class DaemonPlan:
    """What to do next: nodes that need a pod, and pods to delete."""

    create_on: tuple[str, ...]
    delete: tuple[str, ...]


def scaled_value(value: int | str | None, total: int, *, default: int = 1) -> int:
    """Resolve an int-or-percent like ``maxUnavailable`` against ``total`` (percent rounds up)."""
    if value is None:
        return default
    if isinstance(value, str) and value.endswith("%"):
        return math.ceil(int(value[:-1]) * total / 100)
    return int(value)


def _keeper(pods: Sequence[PodSummary]) -> PodSummary:
    return sorted(pods, key=lambda p: (not p.updated, not p.available, p.created, p.name))[0]


def plan_daemonset(nodes: Sequence[NodePods], *, max_unavailable: int, rolling: bool) -> DaemonPlan:
    """Decide the next step of a DaemonSet toward one up-to-date, available pod per node.

    Pods on nodes that should not run them go, surplus pods on a node go, nodes without a pod
    get one. With ``rolling``, old pods are replaced: unavailable old ones at once, available
    ones only while fewer than ``max_unavailable`` nodes lack an available pod.
    """
    create: list[str] = []
    delete: list[str] = []
    kept: list[tuple[str, PodSummary]] = []
    for slot in nodes:
        if not slot.eligible:
            delete.extend(p.name for p in slot.pods)
        elif not slot.pods:
            create.append(slot.node)
        else:
            keeper = _keeper(slot.pods)
            delete.extend(p.name for p in slot.pods if p is not keeper)
            kept.append((slot.node, keeper))
    if rolling:
        unavailable = len(create) + sum(1 for _, pod in kept if not pod.available)
        budget = max(1, max_unavailable)
        for _, pod in sorted(kept):
            if pod.updated:
                continue
            if not pod.available:
                delete.append(pod.name)
            elif unavailable < budget:
                delete.append(pod.name)
                unavailable += 1
    return DaemonPlan(tuple(create), tuple(delete))


def daemon_status(nodes: Sequence[NodePods], *, generation: int, ready: int) -> dict[str, Any]:
    """The DaemonSet ``status`` counters for the observed pods.

    Args:
        nodes: Every node with the DaemonSet's pods on it.
        generation: The DaemonSet's ``metadata.generation``.
        ready: How many of its scheduled pods are Ready.
    """
    eligible = [n for n in nodes if n.eligible]
    available = sum(1 for n in eligible if any(p.available for p in n.pods))
    return {
        "currentNumberScheduled": sum(1 for n in eligible if n.pods),
        "desiredNumberScheduled": len(eligible),
        "numberMisscheduled": sum(1 for n in nodes if not n.eligible and n.pods),
        "numberReady": ready,
        "numberAvailable": available,
        "numberUnavailable": len(eligible) - available,
        "updatedNumberScheduled": sum(1 for n in eligible if any(p.updated for p in n.pods)),
        "observedGeneration": generation,
    }
