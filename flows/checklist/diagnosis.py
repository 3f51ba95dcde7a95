"""The diagnosis: from an observation to findings (scope, the Service, its pods, endpoints)."""

from __future__ import annotations

from flows.checklist.findings import Finding, FindingCode, Severity, needs_attention
from flows.checklist.health import describe_pod, pod_trouble
from flows.checklist.kube_proxy_diagnosis import kube_proxy_findings, node_findings
from flows.checklist.observation import Observation, PodState, ServiceState
from flows.checklist.proposals import port_resolves, render_labels, selector_candidates

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
    return (
        Finding(
            code=Code.MANY_SERVICES_AFFECTED,
            severity=Severity.WARNING,
            summary=f"{others + 1} alerts of this name fire at once: suspect kube-proxy, "
            "the CNI or a node rather than one Service",
            subject="cluster",
            evidence=(f"{others} other alert(s) of the same name firing",),
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
        *_target_port_findings(observation, service, subject),
        *_readiness_findings(observation, subject),
        *_endpoint_findings(observation, service, subject),
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
    if observation.pods:
        return ()
    evidence = [f"selector: {render_labels(service.selector)}"]
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
    troubled = [pod for pod in pods if pod_trouble(pod) is not None]
    if not troubled:
        return ()
    evidence = tuple(describe_pod(pod) for pod in troubled)
    if len(troubled) == len(pods):
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
