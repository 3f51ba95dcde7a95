"""How the checklist batches its steps: what one approval covers, and which steps run together."""

from __future__ import annotations

from flows.approval import ApprovalItem
from flows.checklist.actions import (
    PatchServiceSelector,
    PatchServiceTargetPort,
    RestartKubeProxyPod,
)
from flows.checklist.plan import Mutation


def approval_item(action: Mutation) -> ApprovalItem:
    """How a step reads in an approval request: what, where it reaches, the exact change."""
    diff: tuple[str, ...] = ()
    if isinstance(action, PatchServiceSelector | PatchServiceTargetPort):
        diff = action.diff()
    return ApprovalItem(
        key=action.key,
        description=action.description,
        blast_radius=str(action.blast_radius),
        diff=list(diff),
    )


def step_groups(mutations: tuple[Mutation, ...]) -> list[tuple[Mutation, ...]]:
    """Steps run together: the kube-proxy restarts of one wave; any other step alone."""
    groups: list[tuple[Mutation, ...]] = []
    for action in mutations:
        previous = groups[-1][-1] if groups else None
        if (
            isinstance(action, RestartKubeProxyPod)
            and isinstance(previous, RestartKubeProxyPod)
            and previous.wave == action.wave
        ):
            groups[-1] = (*groups[-1], action)
        else:
            groups.append((action,))
    return groups
