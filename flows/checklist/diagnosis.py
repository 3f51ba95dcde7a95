"""The diagnosis: from an observation to findings (scope, the Service, its pods, endpoints)."""

from __future__ import annotations

from flows.checklist.findings import Finding, FindingCode, Severity, needs_attention
from flows.checklist.health import PodTrouble, describe_pod, pod_trouble
from flows.checklist.kube_proxy_diagnosis import kube_proxy_findings, node_findings
from flows.checklist.observation import Observation, PodState, ServiceState, WorkloadState
from flows.checklist.proposals import port_resolves, render_labels, selector_candidates

STARTING = frozenset({PodTrouble.PENDING, PodTrouble.NOT_READY, PodTrouble.TERMINATING})
"""Troubles of a pod that is still starting (or going away) as its workload rolls out."""

Code = FindingCode


def diagnose(observation: Observation) -> tuple[Finding, ...]:
    """All findings about `observation`, in checklist order; HEALTHY when none needs action."""
    findings = (
        *scope_findings(observation),
        *service_findings(observation),
        *kube_proxy_findings(observation),
        *node_findings(observation),
    )
    if needs_attention(findings):
        return findings
    healthy = Finding(
        code=Code.HEALTHY,
        severity=Severity.INFO,
        summary="Nothing needs action: no finding of warning or critical severity",
        subject=_subject(observation),
    )
    return (*findings, healthy)


def _subject(observation: Observation) -> str:
    if observation.namespace and observation.service_name:
        return f"{observation.namespace}/{observation.service_name}"
    if observation.instance:
        return f"node/{observation.instance}"
    return "cluster"


def _alone_summary(observation: Observation) -> str:
    if observation.namespace and observation.service_name:
        return "Only this alert fires: look at this Service and its pods first"
    if observation.instance:
        return "Only this alert fires: look at this node and its kube-proxy first"
    return "No other alert of this name fires"


def scope_findings(observation: Observation) -> tuple[Finding, ...]:
    """Minute 1: one Service alerting, or many at once (then suspect kube-proxy, CNI, node)."""
    others = observation.other_alerts_firing
    if others is None:
        return ()
    if others == 0:
        return (
            Finding(
                code=Code.SINGLE_SERVICE_AFFECTED,
                severity=Severity.INFO,
                summary=_alone_summary(observation),
                subject=_subject(observation),
            ),
        )
    if not observation.other_alerts_confirmed:
        # A resolved notification the receiver missed leaves its episode counted: without
        # Alertmanager's word the others may be long over, so they must not steer the scope.
        return (
            Finding(
                code=Code.MANY_SERVICES_AFFECTED,
                severity=Severity.INFO,
                summary=f"{others} other alert(s) of this name may fire too (not confirmed): "
                "if they do, suspect kube-proxy, the CNI or a node rather than one Service",
                subject="cluster",
                evidence=(
                    f"{others} other alert(s) of the same name started runs recently with no "
                    "resolution recorded by the receiver",
                    "Alertmanager's API (RUNBOOKS_ALERTMANAGER_URL) was not asked, so whether "
                    "they still fire is unknown",
                ),
            ),
        )
    return (
        Finding(
            code=Code.MANY_SERVICES_AFFECTED,
            severity=Severity.WARNING,
            summary=f"{others + 1} alerts of this name fire at once: suspect kube-proxy, "
            "the CNI or a node rather than one Service",
            subject="cluster",
            evidence=(f"{others} other alert(s) of the same name firing (Alertmanager's API)",),
        ),
    )


def service_findings(observation: Observation) -> tuple[Finding, ...]:
    """Minutes 1 and 4: the Service's configuration, its pods and its endpoints."""
    if observation.namespace is None or observation.service_name is None:
        return ()
    subject = f"{observation.namespace}/{observation.service_name}"
    service = observation.service
    if service is None:
        return (
            Finding(
                code=Code.SERVICE_MISSING,
                severity=Severity.CRITICAL,
                summary=f"Service {subject} does not exist",
                subject=subject,
            ),
        )
    if service.type == "ExternalName":
        return (
            Finding(
                code=Code.EXTERNAL_NAME,
                severity=Severity.WARNING,
                summary="ExternalName Service: a DNS CNAME, kube-proxy does not proxy it",
                subject=subject,
                evidence=(f"externalName: {service.external_name}",),
            ),
        )
    return (
        *_selector_findings(observation, service, subject),
        *workload_findings(observation),
        *_target_port_findings(observation, service, subject),
        *_unschedulable_findings(observation, subject),
        *_readiness_findings(observation, subject),
        *_endpoint_findings(observation, service, subject),
    )


def selected_workloads(observation: Observation) -> tuple[WorkloadState, ...]:
    """The workloads the selector matches, each once: a Deployment's ReplicaSets go with it."""
    workloads = observation.workloads or ()
    owners = {f"{w.kind}/{w.name}" for w in workloads}
    return tuple(w for w in workloads if w.owner not in owners)


def workload_findings(observation: Observation) -> tuple[Finding, ...]:
    """Why a Service has no Ready pod when its selector is right: the workload it selects is
    scaled to zero, or still rolling its pods out."""
    service = observation.service
    if service is None:
        return ()
    findings: list[Finding] = []
    matched = f"the selector {render_labels(service.selector)} matches its pod template"
    for workload in selected_workloads(observation):
        counts = (
            f"{workload.kind} {workload.name}: spec.replicas {workload.replicas}, "
            f"{workload.current} pod(s), {workload.ready} Ready"
        )
        if workload.replicas == 0:
            findings.append(
                Finding(
                    code=Code.WORKLOAD_SCALED_TO_ZERO,
                    severity=Severity.WARNING,
                    summary=f"{workload.ref} is scaled to 0 replicas: the Service's selector is "
                    "right, and there is no pod to select",
                    subject=workload.subject,
                    evidence=(counts, matched),
                )
            )
        elif _rolling_out(workload, observation.pods):
            findings.append(
                Finding(
                    code=Code.WORKLOAD_ROLLING_OUT,
                    severity=Severity.WARNING,
                    summary=_rollout_summary(workload),
                    subject=workload.subject,
                    evidence=(
                        counts,
                        f"generation {workload.generation}, observed "
                        f"{workload.observed_generation}",
                        matched,
                    ),
                )
            )
    return tuple(findings)


def _rolling_out(workload: WorkloadState, pods: tuple[PodState, ...]) -> bool:
    behind = (
        not workload.rollout_observed
        or (workload.updated is not None and workload.updated < workload.replicas)
        or workload.ready < workload.replicas
    )
    # Pods that crash, cannot pull or cannot be placed are faults of their own, not progress.
    starting = all(pod_trouble(p) in STARTING for p in pods if pod_trouble(p) is not None)
    return behind and starting


def _rollout_summary(workload: WorkloadState) -> str:
    if not workload.rollout_observed or (
        workload.updated is not None and workload.updated < workload.replicas
    ):
        updated = "?" if workload.updated is None else workload.updated
        return (
            f"{workload.ref} is rolling out a new template: {updated} of {workload.replicas} "
            f"pod(s) updated, {workload.ready} Ready; its pods are still starting"
        )
    return (
        f"{workload.ref} is starting its pods: {workload.ready} of {workload.replicas} Ready; "
        "the Service gets endpoints as they become Ready"
    )


def _unschedulable_findings(observation: Observation, subject: str) -> tuple[Finding, ...]:
    pods = observation.pods
    stuck = [pod for pod in pods if pod_trouble(pod) is PodTrouble.UNSCHEDULABLE]
    if not stuck:
        return ()
    none_ready = not any(p.ready and not p.deleting for p in pods)
    return (
        Finding(
            code=Code.PODS_UNSCHEDULABLE,
            severity=Severity.CRITICAL if none_ready else Severity.WARNING,
            summary=f"{len(stuck)} of {len(pods)} selected pod(s) cannot be scheduled: no node "
            "has room for them (or matches them); restarting them does not help",
            subject=subject,
            evidence=tuple(describe_pod(pod) for pod in stuck),
        ),
    )


def _selector_findings(
    observation: Observation, service: ServiceState, subject: str
) -> tuple[Finding, ...]:
    if not service.selector:
        return (
            Finding(
                code=Code.NO_SELECTOR,
                severity=Severity.INFO,
                summary="The Service has no selector: its Endpoints are managed by hand",
                subject=subject,
            ),
        )
    if observation.pods or selected_workloads(observation):
        # Pods selected, or a workload whose pods it would select: the selector is right.
        return ()
    evidence = [f"selector: {render_labels(service.selector)}"]
    if observation.workloads is not None:
        evidence.append(
            "no Deployment, ReplicaSet or StatefulSet of the namespace has a pod template "
            "it matches"
        )
    evidence += [
        f"{kinds} could not be read (forbidden), so one of them scaled to zero is not ruled out"
        for kinds in observation.unreadable_workloads
    ]
    near = selector_candidates(service.selector, observation.namespace_pods or ())
    evidence += [
        f"nearly matching pods: {render_labels(c.selector)} ({', '.join(c.pods)})" for c in near
    ]
    return (
        Finding(
            code=Code.SELECTOR_MATCHES_NO_PODS,
            severity=Severity.CRITICAL,
            summary="The Service's selector matches no pod",
            subject=subject,
            evidence=tuple(evidence),
        ),
    )


def _target_port_findings(
    observation: Observation, service: ServiceState, subject: str
) -> tuple[Finding, ...]:
    findings = []
    for port in service.ports:
        verdicts = {pod.name: port_resolves(port, pod) for pod in observation.pods}
        missing = sorted(name for name, served in verdicts.items() if served is False)
        if not missing:
            continue
        named = isinstance(port.target_port, str)
        every = len(missing) == len(verdicts)
        findings.append(
            Finding(
                code=Code.TARGET_PORT_NOT_EXPOSED,
                # A numeric port may be served undeclared; only a missing name is certain.
                severity=Severity.CRITICAL if named and every else Severity.WARNING,
                summary=f"targetPort {port.target_port!r} of port {port.port}/{port.protocol} "
                f"matches no container port of {len(missing)} of {len(verdicts)} pod(s)",
                subject=subject,
                evidence=tuple(
                    f"pod {pod.name} declares: {_declared(pod)}"
                    for pod in observation.pods
                    if pod.name in missing
                ),
            )
        )
    return tuple(findings)


def _declared(pod: PodState) -> str:
    ports = [f"{p.name or '-'}={p.number}/{p.protocol}" for p in pod.container_ports]
    return ", ".join(ports) or "no ports"


def _readiness_findings(observation: Observation, subject: str) -> tuple[Finding, ...]:
    pods = observation.pods
    # Unschedulable pods have their finding (`_unschedulable_findings`); these are the others.
    troubled = [pod for pod in pods if pod_trouble(pod) not in (None, PodTrouble.UNSCHEDULABLE)]
    if not troubled:
        return ()
    evidence = tuple(describe_pod(pod) for pod in troubled)
    if not any(pod_trouble(pod) is None for pod in pods):
        return (
            Finding(
                code=Code.NO_PODS_READY,
                severity=Severity.CRITICAL,
                summary=f"None of the {len(pods)} selected pod(s) is Ready",
                subject=subject,
                evidence=evidence,
            ),
        )
    return (
        Finding(
            code=Code.SOME_PODS_NOT_READY,
            severity=Severity.WARNING,
            summary=f"{len(troubled)} of {len(pods)} selected pods are not Ready",
            subject=subject,
            evidence=evidence,
        ),
    )


def _endpoint_findings(
    observation: Observation, service: ServiceState, subject: str
) -> tuple[Finding, ...]:
    endpoints = observation.endpoints
    if endpoints is None:
        return ()
    counts = f"endpoints: {endpoints.ready} ready, {endpoints.not_ready} not ready"
    if endpoints.ready == 0:
        return (
            Finding(
                code=Code.NO_READY_ENDPOINTS,
                severity=Severity.CRITICAL,
                summary="The Service has no ready endpoint: it is down",
                subject=subject,
                evidence=(counts,),
            ),
        )
    local = service.external_traffic_policy == "Local"
    if not local or service.type not in ("NodePort", "LoadBalancer"):
        return ()
    without = sorted(
        node.name
        for node in observation.nodes
        if node.ready and node.name not in endpoints.ready_nodes
    )
    if not without:
        return ()
    finding = Finding(
        code=Code.LOCAL_POLICY_NODES_WITHOUT_ENDPOINT,
        severity=Severity.WARNING,
        summary=f"externalTrafficPolicy Local: {len(without)} node(s) have no local ready "
        "endpoint and drop the Service's node-port traffic",
        subject=subject,
        evidence=(
            counts,
            f"nodes with a local endpoint: {', '.join(sorted(endpoints.ready_nodes))}",
            f"nodes without: {', '.join(without)}",
        ),
    )
    return (finding,)
