"""Planning: from findings to an ordered, approvable plan (mitigate, fix, verify)."""

from __future__ import annotations

from flows.checklist.actions import Phase, RestartKubeProxyPod
from flows.checklist.findings import Finding, FindingCode, codes, needs_attention
from flows.checklist.kube_proxy_diagnosis import ROLLBACK_FLOW
from flows.checklist.mitigation import (
    NeedsApproval,
    plan_app_pod_restarts,
    plan_fallback_access,
    plan_kube_proxy_restarts,
)
from flows.checklist.observation import Observation
from flows.checklist.parameters import ChecklistParameters
from flows.checklist.plans import Action, Note, NoteKind, Plan
from flows.checklist.repairs import plan_selector_fix, plan_target_port_fixes
from flows.checklist.verification import (
    VerifyAlertResolved,
    VerifyKubeProxyReady,
    VerifyServiceEndpoints,
)
from runbooks.approval import ActionKind, ApprovalMode, ApprovalPolicy

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
}


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
    parts: list[tuple[tuple[Action, ...], tuple[Note, ...]]] = [
        plan_fallback_access(observation, needs_approval)
    ]
    if found & POD_READINESS_FAULTS:
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
        observation, parameters, planned=actions, needs_approval=needs_approval
    )
    return Plan(actions=tuple(actions), notes=tuple(notes), deferred_nodes=deferred)


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
) -> tuple[Action, ...]:
    approval = needs_approval(ActionKind.DIAGNOSE)
    steps: list[Action] = []
    service = observation.service
    if service is not None and service.type != "ExternalName":
        steps.append(
            VerifyServiceEndpoints(
                namespace=service.namespace, service=service.name, needs_approval=approval
            )
        )
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
