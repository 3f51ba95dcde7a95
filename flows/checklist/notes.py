"""A plan: the ordered actions, the notes for humans, and what was deferred."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from flows.checklist.actions import (
    CreateEmergencyNodePort,
    PatchServiceSelector,
    PatchServiceTargetPort,
    Phase,
    RestartAppPod,
    RestartKubeProxyPod,
)
from flows.checklist.verification import (
    VerifyAlertResolved,
    VerifyKubeProxyReady,
    VerifyServiceEndpoints,
)

Action = (
    RestartKubeProxyPod
    | CreateEmergencyNodePort
    | RestartAppPod
    | PatchServiceSelector
    | PatchServiceTargetPort
    | VerifyServiceEndpoints
    | VerifyKubeProxyReady
    | VerifyAlertResolved
)
"""Every kind of step a plan may hold."""

Mutation = (
    RestartKubeProxyPod
    | CreateEmergencyNodePort
    | RestartAppPod
    | PatchServiceSelector
    | PatchServiceTargetPort
)
"""The steps that change the cluster (re-checked right before they run)."""


class NoteKind(StrEnum):
    """What a note asks of the humans reading the plan."""

    NO_ACTION = "no_action"
    MANUAL_ACTION = "manual_action"
    RECOMMEND_ROLLBACK = "recommend_rollback"
    DEFERRED = "deferred"
    DIRECT_POD_ACCESS = "direct_pod_access"
    ALREADY_IN_PLACE = "already_in_place"


@dataclass(frozen=True, slots=True, kw_only=True)
class Note:
    """Something the plan does not do itself, and says so."""

    kind: NoteKind
    phase: Phase
    text: str
    details: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Plan:
    """The checklist's plan.

    Attributes:
        actions: Steps in order of phase (mitigate, fix, verify), run one after another;
            kube-proxy restarts of the same wave may run together.
        notes: What needs a human (manual fixes, the rollback recommendation, deferred nodes).
        deferred_nodes: Nodes whose kube-proxy needs a restart beyond this run's budget.
    """

    actions: tuple[Action, ...] = ()
    notes: tuple[Note, ...] = ()
    deferred_nodes: tuple[str, ...] = ()

    @property
    def mutations(self) -> tuple[Mutation, ...]:
        """The steps that change the cluster."""
        return tuple(a for a in self.actions if isinstance(a, Mutation))

    @property
    def needs_approval(self) -> tuple[Action, ...]:
        """The steps a human must approve first."""
        return tuple(a for a in self.actions if a.needs_approval)

    def in_phase(self, phase: Phase) -> tuple[Action, ...]:
        """The steps of one phase, in order."""
        return tuple(a for a in self.actions if a.phase is phase)
