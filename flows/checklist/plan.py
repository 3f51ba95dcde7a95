"""The checklist's plan: from findings to ordered, approvable steps (mitigate, fix, verify)."""

from __future__ import annotations

from dataclasses import dataclass

from flows.checklist.actions import (
    CreateEmergencyNodePort,
    PatchServiceSelector,
    PatchServiceTargetPort,
    Phase,
    RestartAppPod,
    RestartKubeProxyPod,
)
from flows.checklist.budgets import HourlyBudget
from flows.checklist.findings import Finding, FindingCode, codes, needs_attention
from flows.checklist.kube_proxy_diagnosis import ROLLBACK_FLOW
from flows.checklist.mitigation import (
    NeedsApproval,
    kube_proxy_budget,
    plan_app_pod_restarts,
    plan_fallback_access,
    plan_kube_proxy_restarts,
)
from flows.checklist.notes import Note, NoteKind
from flows.checklist.observation import Observation
from flows.checklist.parameters import ChecklistParameters
from flows.checklist.repairs import plan_selector_fix, plan_target_port_fixes
from flows.checklist.verification import (
    VerificationStep,
    VerifyAlertResolved,
    VerifyKubeProxyReady,
    VerifyServiceConnectivity,
    VerifyServiceEndpoints,
    VerifyTargetPort,
)
from runbooks.approval import ActionKind, ApprovalMode, ApprovalPolicy

Mutation = (
    RestartKubeProxyPod
    | CreateEmergencyNodePort
    | RestartAppPod
    | PatchServiceSelector
    | PatchServiceTargetPort
)
"""The steps that change the cluster (re-checked right before they run)."""

Action = Mutation | VerificationStep
"""Every kind of step a plan may hold."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Plan:
    """The checklist's plan.

    Attributes:
        actions: Steps in order of phase (mitigate, fix, verify), run one after another;
            kube-proxy restarts of the same wave may run together.
        notes: What needs a human (manual fixes, the rollback recommendation, deferred nodes).
        deferred_nodes: Nodes whose kube-proxy needs a restart beyond this run's budget.
        restart_budget: The kube-proxy restarts this run (and its hour) may make, when it
            plans any or defers some.
    """

    actions: tuple[Action, ...] = ()
    notes: tuple[Note, ...] = ()
    deferred_nodes: tuple[str, ...] = ()
    restart_budget: HourlyBudget | None = None

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


Code = FindingCode

KUBE_PROXY_POD_FAULTS = frozenset(
    {Code.KUBE_PROXY_CRASH_LOOPING, Code.KUBE_PROXY_NOT_READY, Code.KUBE_PROXY_SYNC_ERRORS}
)
POD_READINESS_FAULTS = frozenset({Code.NO_PODS_READY, Code.SOME_PODS_NOT_READY})

_MANUAL_FIXES: dict[FindingCode, tuple[Phase, str]] = {
    Code.SERVICE_MISSING: (
        Phase.FIX,
        "Restore the Service from the latest backup or redeploy it; nothing to proxy until then",
    ),
    Code.EXTERNAL_NAME: (
        Phase.FIX,
        "Check that the externalName resolves in DNS; kube-proxy plays no part here",
    ),
    Code.LOCAL_POLICY_NODES_WITHOUT_ENDPOINT: (
        Phase.FIX,
        "Spread the pods over the nodes, or set externalTrafficPolicy: Cluster "
        "(clients' source IPs are then lost)",
    ),
    Code.KUBE_PROXY_MISSING_ON_NODE: (
        Phase.MITIGATE,
        "Find why the DaemonSet runs no pod on the node (taints, nodeSelector, its Events)",
    ),
    Code.KUBE_PROXY_DAEMONSET_MISSING: (
        Phase.MITIGATE,
        "Find how this cluster runs kube-proxy (static pods or a kube-proxy-free CNI)",
    ),
    Code.NODE_NOT_READY: (Phase.MITIGATE, "Handle the NotReady node (kubelet, network, drain)"),
    Code.NODE_UNKNOWN: (Phase.SCOPE, "Name the node by its name or InternalIP and run again"),
    Code.MANY_SERVICES_AFFECTED: (
        Phase.SCOPE,
        "Many Services fail at once: if kube-proxy looks healthy, check the CNI pods and the "
        "nodes' network",
    ),
    Code.WORKLOAD_SCALED_TO_ZERO: (
        Phase.FIX,
        "Nothing is wrong with the Service: if it should serve, scale its workload up "
        "(kubectl scale <kind>/<name> --replicas=<N>); if it was scaled down on purpose, "
        "silence the alert",
    ),
    Code.WORKLOAD_ROLLING_OUT: (
        Phase.FIX,
        "Let the rollout finish (kubectl rollout status <kind>/<name>); if its new pods do "
        "not become Ready, roll it back (kubectl rollout undo <kind>/<name>)",
    ),
    Code.PODS_UNSCHEDULABLE: (
        Phase.FIX,
        "Give the pods room: add nodes or free capacity, or lower their resource requests "
        "(or fix their nodeSelector); deleting them does not help",
    ),
}

UNREACHABLE_ENDPOINTS = frozenset({Code.WORKLOAD_SCALED_TO_ZERO, Code.PODS_UNSCHEDULABLE})
"""Findings under which the Service cannot get ready endpoints back from this run's steps."""


def plan(
    findings: tuple[Finding, ...],
    observation: Observation,
    parameters: ChecklistParameters,
    policy: ApprovalPolicy,
) -> Plan:
    """Decide the checklist's steps for what was found.

    Args:
        findings: The diagnosis of `observation`.
        observation: What was observed (the details the steps need).
        parameters: The run's parameters (budgets, the drill flag).
        policy: The runbook's approval policy.

    Returns:
        The plan; empty, with a "no action" note, when nothing needs attention.
    """
    if not needs_attention(findings):
        return Plan(
            notes=(
                Note(
                    kind=NoteKind.NO_ACTION,
                    phase=Phase.SCOPE,
                    text="No action: nothing of warning or critical severity was found",
                ),
            ),
        )

    def needs_approval(kind: ActionKind) -> bool:
        return policy.mode_for(kind, drill=parameters.auto_approve) is ApprovalMode.REQUIRED

    found = codes(findings)
    actions: list[Action] = []
    notes: list[Note] = []
    deferred: tuple[str, ...] = ()
    budget: HourlyBudget | None = None
    rollout_stuck = Code.KUBE_PROXY_ROLLOUT_STUCK in found
    if rollout_stuck:
        notes.append(_rollback_note())
    if found & KUBE_PROXY_POD_FAULTS:
        restarts = plan_kube_proxy_restarts(
            observation, parameters, needs_approval=needs_approval, rollout_stuck=rollout_stuck
        )
        actions += restarts.actions
        notes += restarts.notes
        deferred = restarts.deferred_nodes
        budget = kube_proxy_budget(observation, parameters)
    parts: list[tuple[tuple[Action, ...], tuple[Note, ...]]] = [
        plan_fallback_access(observation, needs_approval)
    ]
    # Pods a rollout is still starting are not restarted: they are new, not stuck.
    if found & POD_READINESS_FAULTS and Code.WORKLOAD_ROLLING_OUT not in found:
        parts.append(plan_app_pod_restarts(observation, parameters, needs_approval=needs_approval))
    if Code.SELECTOR_MATCHES_NO_PODS in found:
        parts.append(plan_selector_fix(observation, needs_approval))
    if Code.TARGET_PORT_NOT_EXPOSED in found:
        parts.append(plan_target_port_fixes(observation, needs_approval))
    for part_actions, part_notes in parts:
        actions += part_actions
        notes += part_notes
    notes += _manual_notes(findings)
    actions += _verification(
        observation,
        parameters,
        planned=actions,
        needs_approval=needs_approval,
        endpoints_reachable=not found & UNREACHABLE_ENDPOINTS,
    )
    return Plan(
        actions=tuple(actions), notes=tuple(notes), deferred_nodes=deferred, restart_budget=budget
    )


def _rollback_note() -> Note:
    return Note(
        kind=NoteKind.RECOMMEND_ROLLBACK,
        phase=Phase.FIX,
        text=f"The kube-proxy rollout is stuck: roll it back with the {ROLLBACK_FLOW} flow "
        "(started by hand; this run does not roll back)",
        details=(f"runbooks run {ROLLBACK_FLOW}",),
    )


def _manual_notes(findings: tuple[Finding, ...]) -> tuple[Note, ...]:
    notes: dict[FindingCode, Note] = {}
    for finding in findings:
        if finding.code not in _MANUAL_FIXES:
            continue
        phase, text = _MANUAL_FIXES[finding.code]
        previous = notes.get(finding.code)
        subjects = (*(previous.details if previous else ()), finding.subject)
        notes[finding.code] = Note(
            kind=NoteKind.MANUAL_ACTION, phase=phase, text=text, details=subjects
        )
    return tuple(notes.values())


def _verification(
    observation: Observation,
    parameters: ChecklistParameters,
    *,
    planned: list[Action],
    needs_approval: NeedsApproval,
    endpoints_reachable: bool,
) -> tuple[Action, ...]:
    approval = needs_approval(ActionKind.DIAGNOSE)
    steps: list[Action] = []
    service = observation.service
    if service is not None and service.type != "ExternalName" and endpoints_reachable:
        steps.append(
            VerifyServiceEndpoints(
                namespace=service.namespace, service=service.name, needs_approval=approval
            )
        )
    steps += _fix_verification(planned, observation, approval)
    nodes = tuple(a.node for a in planned if isinstance(a, RestartKubeProxyPod))
    if nodes:
        steps.append(VerifyKubeProxyReady(nodes=nodes, needs_approval=approval))
    if parameters.alertname and parameters.alert_fingerprint:
        steps.append(
            VerifyAlertResolved(
                alertname=parameters.alertname,
                fingerprint=parameters.alert_fingerprint,
                needs_approval=approval,
            )
        )
    return tuple(steps)


def _fix_verification(
    planned: list[Action], observation: Observation, approval: bool
) -> list[Action]:
    """A Service fix is verified by what it changed, not by endpoints it may have had before:
    a fixed targetPort must name a port the pods declare, and a fixed Service must answer a
    TCP connect to its ClusterIP (each TCP port it fixed; every TCP port for a selector)."""
    service = observation.service
    if service is None or service.cluster_ip in (None, "", "None"):
        return []
    steps: list[Action] = []
    ports: list[int] = []
    for action in planned:
        if isinstance(action, PatchServiceTargetPort):
            steps.append(
                VerifyTargetPort(
                    namespace=action.namespace,
                    service=action.service,
                    port=action.port,
                    target_port=action.after,
                    needs_approval=approval,
                )
            )
            ports.append(action.port)
        elif isinstance(action, PatchServiceSelector):
            ports += [p.port for p in service.ports]
    tcp = {p.port for p in service.ports if p.protocol == "TCP"}
    for port in dict.fromkeys(ports):
        if port in tcp:
            steps.append(
                VerifyServiceConnectivity(
                    namespace=service.namespace,
                    service=service.name,
                    port=port,
                    needs_approval=approval,
                )
            )
    return steps
