"""The diagnosis of kube-proxy (per node and its DaemonSet rollout) and of the nodes."""

from __future__ import annotations

from flows.checklist.findings import Finding, FindingCode, Severity
from flows.checklist.health import (
    describe_kube_proxy,
    kube_proxy_crash_looping,
    kube_proxy_healthy,
)
from flows.checklist.observation import (
    KubeProxyDaemonSet,
    KubeProxyPod,
    KubeProxyState,
    NodeState,
    Observation,
)

Code = FindingCode
KUBE_SYSTEM = "kube-system"
ROLLBACK_FLOW = "kube-proxy-rollback/kube-proxy-rollback"
"""The deployment of the rollback flow a stuck rollout recommends (it is started by hand)."""


def nodes_in_scope(observation: Observation) -> tuple[NodeState, ...]:
    """The node the run is scoped to, or every node; none when `instance` names no node."""
    if observation.instance is None or observation.kube_proxy_everywhere:
        return observation.nodes
    target = observation.target_node
    return () if target is None else (target,)


def kube_proxy_pods_in_scope(observation: Observation) -> tuple[KubeProxyPod, ...]:
    """Live kube-proxy pods on the nodes in scope."""
    if observation.kube_proxy is None:
        return ()
    names = {node.name for node in nodes_in_scope(observation)}
    return tuple(
        pod
        for pod in observation.kube_proxy.pods
        if not pod.deleting and (pod.node_name in names or observation.instance is None)
    )


def kube_proxy_findings(observation: Observation) -> tuple[Finding, ...]:
    """Minutes 2-3: every kube-proxy pod in scope Running and Ready, and the rollout sound."""
    state = observation.kube_proxy
    if state is None:
        return ()
    if state.daemon_set is None and not state.pods:
        return (
            Finding(
                code=Code.KUBE_PROXY_DAEMONSET_MISSING,
                severity=Severity.WARNING,
                summary="No kube-proxy DaemonSet in kube-system (static pods, or a CNI that "
                "replaces kube-proxy?)",
                subject=f"{KUBE_SYSTEM}/kube-proxy",
            ),
        )
    findings = [
        *_missing_pods(observation, state),
        *(f for pod in kube_proxy_pods_in_scope(observation) if (f := _pod_finding(pod))),
    ]
    if state.daemon_set is not None:
        findings.extend(_rollout_findings(state.daemon_set, state.pods))
    return tuple(findings)


def _missing_pods(observation: Observation, state: KubeProxyState) -> tuple[Finding, ...]:
    if state.daemon_set is None:
        return ()
    return tuple(
        Finding(
            code=Code.KUBE_PROXY_MISSING_ON_NODE,
            severity=Severity.CRITICAL,
            summary=f"No kube-proxy pod runs on node {node.name}: its Services are not "
            "programmed there",
            subject=f"node/{node.name}",
            evidence=(
                f"DaemonSet: {state.daemon_set.desired} desired, {state.daemon_set.ready} ready",
            ),
        )
        for node in nodes_in_scope(observation)
        if node.ready and state.pod_on(node.name) is None
    )


def _pod_finding(pod: KubeProxyPod) -> Finding | None:
    subject = f"{KUBE_SYSTEM}/{pod.name}"
    evidence = (describe_kube_proxy(pod), *pod.error_lines)
    node = pod.node_name or "(unscheduled)"
    if kube_proxy_crash_looping(pod):
        return Finding(
            code=Code.KUBE_PROXY_CRASH_LOOPING,
            severity=Severity.CRITICAL,
            summary=f"kube-proxy on node {node} is crash-looping",
            subject=subject,
            evidence=evidence,
        )
    if not pod.ready:
        return Finding(
            code=Code.KUBE_PROXY_NOT_READY,
            severity=Severity.CRITICAL,
            summary=f"kube-proxy on node {node} is not Ready",
            subject=subject,
            evidence=evidence,
        )
    if not kube_proxy_healthy(pod):
        return Finding(
            code=Code.KUBE_PROXY_SYNC_ERRORS,
            severity=Severity.WARNING,
            summary=f"kube-proxy on node {node} is Ready but logs errors (rules may be stale)",
            subject=subject,
            evidence=evidence,
        )
    return None


def _rollout_findings(
    daemon_set: KubeProxyDaemonSet, pods: tuple[KubeProxyPod, ...]
) -> tuple[Finding, ...]:
    if daemon_set.updated >= daemon_set.desired and daemon_set.rollout_observed:
        return ()
    counters = (
        f"DaemonSet: {daemon_set.desired} desired, {daemon_set.updated} updated, "
        f"{daemon_set.ready} ready; generation {daemon_set.generation}, "
        f"observed {daemon_set.observed_generation}"
    )
    failing_new = [p for p in pods if p.updated is True and not kube_proxy_healthy(p)]
    subject = f"{KUBE_SYSTEM}/daemonset/kube-proxy"
    if failing_new:
        return (
            Finding(
                code=Code.KUBE_PROXY_ROLLOUT_STUCK,
                severity=Severity.CRITICAL,
                summary=f"kube-proxy rollout is stuck: {len(failing_new)} pod(s) of the new "
                f"revision fail; consider the rollback flow ({ROLLBACK_FLOW})",
                subject=subject,
                evidence=(counters, *(describe_kube_proxy(p) for p in failing_new)),
            ),
        )
    return (
        Finding(
            code=Code.KUBE_PROXY_ROLLOUT_IN_PROGRESS,
            severity=Severity.INFO,
            summary="kube-proxy rollout in progress; the updated pods are healthy so far",
            subject=subject,
            evidence=(counters,),
        ),
    )


def node_findings(observation: Observation) -> tuple[Finding, ...]:
    """Nodes in scope that are not Ready, or an `instance` that names no node."""
    if observation.instance is not None and observation.target_node is None:
        return (
            Finding(
                code=Code.NODE_UNKNOWN,
                severity=Severity.WARNING,
                summary=f"instance {observation.instance!r} names no node (by name or address)",
                subject=f"node/{observation.instance}",
                evidence=(f"nodes: {', '.join(n.name for n in observation.nodes) or 'none'}",),
            ),
        )
    return tuple(
        Finding(
            code=Code.NODE_NOT_READY,
            severity=Severity.CRITICAL if observation.instance else Severity.WARNING,
            summary=f"Node {node.name} is not Ready: its pods and kube-proxy may be down",
            subject=f"node/{node.name}",
        )
        for node in nodes_in_scope(observation)
        if not node.ready
    )
