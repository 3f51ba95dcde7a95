"""The five-minute emergency checklist, pure part: observation -> findings -> plan -> report.

Nothing here does I/O or imports Prefect; the flow gathers an `Observation` (see
`flows.checklist.conversion`), calls `diagnose` and `plan`, asks `recheck` before each
mutation, fills a `RunRecord` and renders it with `render_report`. The import-linter contract
on the checklist's pure modules keeps it so.
"""

from flows.checklist.actions import (
    BlastRadius,
    CreateEmergencyNodePort,
    ObjectRef,
    PatchServiceSelector,
    PatchServiceTargetPort,
    Phase,
    RestartAppPod,
    RestartKubeProxyPod,
)
from flows.checklist.diagnosis import diagnose
from flows.checklist.findings import Finding, FindingCode, Severity
from flows.checklist.notes import Note, NoteKind
from flows.checklist.observation import (
    EMERGENCY_LABEL,
    ContainerPortState,
    EndpointState,
    KubeProxyDaemonSet,
    KubeProxyPod,
    KubeProxyState,
    NodeState,
    Observation,
    PodEvent,
    PodState,
    ServicePortState,
    ServiceState,
    WorkloadState,
    emergency_service_name,
    resolve_node,
)
from flows.checklist.parameters import ChecklistParameters, Scope
from flows.checklist.plan import Action, Mutation, Plan, plan
from flows.checklist.recheck import Proceed, Recheck, Skip, recheck
from flows.checklist.record import (
    ActionRecord,
    ActionStatus,
    AlertInfo,
    Outcome,
    PhaseRecord,
    RunRecord,
    StepsApproval,
)
from flows.checklist.report import render_report
from flows.checklist.verification import (
    VerificationStep,
    VerifyAlertResolved,
    VerifyKubeProxyReady,
    VerifyServiceConnectivity,
    VerifyServiceEndpoints,
    VerifyTargetPort,
)

__all__ = [
    "EMERGENCY_LABEL",
    "Action",
    "ActionRecord",
    "ActionStatus",
    "AlertInfo",
    "BlastRadius",
    "ChecklistParameters",
    "ContainerPortState",
    "CreateEmergencyNodePort",
    "EndpointState",
    "Finding",
    "FindingCode",
    "KubeProxyDaemonSet",
    "KubeProxyPod",
    "KubeProxyState",
    "Mutation",
    "NodeState",
    "Note",
    "NoteKind",
    "ObjectRef",
    "Observation",
    "Outcome",
    "PatchServiceSelector",
    "PatchServiceTargetPort",
    "Phase",
    "PhaseRecord",
    "Plan",
    "PodEvent",
    "PodState",
    "Proceed",
    "Recheck",
    "RestartAppPod",
    "RestartKubeProxyPod",
    "RunRecord",
    "Scope",
    "ServicePortState",
    "ServiceState",
    "Severity",
    "Skip",
    "StepsApproval",
    "VerificationStep",
    "VerifyAlertResolved",
    "VerifyKubeProxyReady",
    "VerifyServiceConnectivity",
    "VerifyServiceEndpoints",
    "VerifyTargetPort",
    "WorkloadState",
    "diagnose",
    "emergency_service_name",
    "plan",
    "recheck",
    "render_report",
    "resolve_node",
]
