"""From the Kubernetes adapter's views to the checklist's observation models (thin, pure)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime

from flows.checklist.observation import (
    ContainerPortState,
    EndpointState,
    KubeProxyDaemonSet,
    KubeProxyPod,
    NodeState,
    PodEvent,
    PodState,
    ServicePortState,
    ServiceState,
    WorkloadState,
)
from integrations.kubernetes.views import (
    REVISION_HASH_LABEL,
    ControllerRevision,
    DaemonSet,
    Deployment,
    Endpoints,
    EndpointSlice,
    Event,
    Node,
    Pod,
    ReplicaSet,
    Service,
    StatefulSet,
)

_EPOCH = datetime.min.replace(tzinfo=UTC)


def service_state(service: Service) -> ServiceState:
    """The checklist's view of a Service."""
    return ServiceState(
        namespace=service.meta.namespace or "",
        name=service.meta.name,
        type=service.type,
        cluster_ip=service.cluster_ip,
        selector=dict(service.selector),
        ports=tuple(
            ServicePortState(
                port=p.port,
                target_port=p.target_port,
                protocol=p.protocol,
                name=p.name,
                node_port=p.node_port,
            )
            for p in service.ports
        ),
        external_traffic_policy=service.external_traffic_policy,
        external_name=service.external_name,
    )


def endpoint_state(
    slices: Sequence[EndpointSlice], endpoints: Endpoints | None = None
) -> EndpointState:
    """Count ready and not-ready addresses, from the EndpointSlices when there are any.

    An address listed in several slices (as during a slice split) counts once.
    """
    if not slices and endpoints is not None:
        ready_nodes = {
            a.node_name
            for s in endpoints.subsets
            for a in s.ready_addresses
            if a.node_name is not None
        }
        return EndpointState(
            ready=len(set(endpoints.ready_ips)),
            not_ready=len(set(endpoints.not_ready_ips)),
            ready_nodes=frozenset(ready_nodes),
        )
    ready: set[str] = set()
    not_ready: set[str] = set()
    nodes: set[str] = set()
    for endpoint in (e for s in slices for e in s.endpoints):
        if endpoint.counts_as_ready:
            ready.update(endpoint.addresses)
            if endpoint.node_name is not None:
                nodes.add(endpoint.node_name)
        else:
            not_ready.update(endpoint.addresses)
    return EndpointState(
        ready=len(ready), not_ready=len(not_ready - ready), ready_nodes=frozenset(nodes)
    )


def events_about(pod: Pod, events: Iterable[Event]) -> tuple[PodEvent, ...]:
    """The Events about `pod`, oldest first."""
    mine = [
        e
        for e in events
        if e.involved_object.kind == "Pod"
        and e.involved_object.name == pod.meta.name
        and (e.involved_object.uid in (None, pod.meta.uid))
    ]
    mine.sort(key=lambda e: e.last_timestamp or _EPOCH)
    return tuple(
        PodEvent(reason=e.reason, message=e.message, type=e.type, count=e.count) for e in mine
    )


def _waiting(pod: Pod) -> tuple[str, ...]:
    return tuple(s.waiting_reason for s in pod.container_statuses if s.waiting_reason)


def pod_state(pod: Pod, events: Iterable[Event] = ()) -> PodState:
    """The checklist's view of an application pod, with the Events about it."""
    owner = pod.meta.controller
    return PodState(
        namespace=pod.meta.namespace or "",
        name=pod.meta.name,
        uid=pod.meta.uid,
        labels=dict(pod.meta.labels),
        node_name=pod.node_name,
        pod_ip=pod.pod_ip,
        phase=pod.phase,
        ready=pod.ready,
        restart_count=pod.restart_count,
        waiting_reasons=_waiting(pod),
        container_ports=tuple(
            ContainerPortState(number=p.container_port, name=p.name, protocol=p.protocol)
            for p in pod.container_ports
        ),
        owner_kind=owner.kind if owner else None,
        owner_name=owner.name if owner else None,
        deleting=pod.meta.deleting,
        events=events_about(pod, events),
        unschedulable=pod.unschedulable,
    )


def workload_state(workload: Deployment | ReplicaSet | StatefulSet) -> WorkloadState:
    """The checklist's view of a workload a Service's selector may match."""
    owner = workload.meta.controller
    updated = None if isinstance(workload, ReplicaSet) else workload.status.updated_replicas
    return WorkloadState(
        kind=type(workload).__name__,
        namespace=workload.meta.namespace or "",
        name=workload.meta.name,
        replicas=workload.replicas,
        current=workload.status.replicas,
        ready=workload.status.ready_replicas,
        updated=updated,
        generation=workload.meta.generation,
        observed_generation=workload.status.observed_generation,
        owner=f"{owner.kind}/{owner.name}" if owner else None,
    )


def kube_proxy_daemon_set(daemon_set: DaemonSet) -> KubeProxyDaemonSet:
    """The rollout counters of the kube-proxy DaemonSet."""
    status = daemon_set.status
    return KubeProxyDaemonSet(
        desired=status.desired_number_scheduled,
        ready=status.number_ready,
        updated=status.updated_number_scheduled,
        available=status.number_available,
        generation=daemon_set.meta.generation,
        observed_generation=status.observed_generation,
    )


def current_revision_hash(
    daemon_set: DaemonSet, revisions: Sequence[ControllerRevision]
) -> str | None:
    """The hash of the revision holding the DaemonSet's template now, as its controller finds it.

    The DaemonSet controller tells a pod of the current template by its
    ``controller-revision-hash`` label, never by ``pod-template-generation``: the generation
    also moves on changes that leave the template as it is (its update strategy, a label),
    which would make every current pod look old. None when no revision holds the template yet
    (the controller has not caught up with a change): then which pods are current is unknown.
    """
    spec = daemon_set.raw.get("spec")
    template = spec.get("template") if isinstance(spec, Mapping) else None
    if not isinstance(template, Mapping):
        return None
    holding = [r for r in revisions if r.template == template]
    if not holding:
        return None
    return max(holding, key=lambda r: r.revision).hash


def kube_proxy_pod(
    pod: Pod, *, current_hash: str | None, error_lines: tuple[str, ...] = ()
) -> KubeProxyPod:
    """The checklist's view of a kube-proxy pod; `error_lines` come from its recent log.

    Args:
        pod: The pod.
        current_hash: The DaemonSet's current revision hash (`current_revision_hash`); None
            when unknown, and then so is whether the pod is updated.
        error_lines: Error lines of its recent log.
    """
    label = pod.meta.labels.get(REVISION_HASH_LABEL)
    updated = None if current_hash is None or not label else label == current_hash
    return KubeProxyPod(
        name=pod.meta.name,
        node_name=pod.node_name,
        uid=pod.meta.uid,
        phase=pod.phase,
        ready=pod.ready,
        restart_count=pod.restart_count,
        waiting_reasons=_waiting(pod),
        updated=updated,
        deleting=pod.meta.deleting,
        error_lines=error_lines,
    )


def node_state(node: Node) -> NodeState:
    """The checklist's view of a node."""
    return NodeState(name=node.meta.name, ready=node.ready, internal_ip=node.internal_ip)
