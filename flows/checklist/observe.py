"""Reading the cluster into an `Observation`, with a bounded number of requests.

Never a cluster-wide list of Services or Pods: the Service is read by name, its pods by its
selector, its EndpointSlices by their Service label, kube-proxy by its label in kube-system.
Logs are read only of kube-proxy pods that are not Ready (at most `MAX_LOGGED_PODS`) and of
the nodes asked for, so the number of requests grows with neither Services nor nodes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from enum import Flag, auto

from flows.checklist.conversion import (
    current_revision_hash,
    endpoint_state,
    kube_proxy_daemon_set,
    kube_proxy_pod,
    node_state,
    pod_state,
    service_state,
    workload_state,
)
from flows.checklist.health import error_lines
from flows.checklist.observation import (
    EndpointState,
    KubeProxyState,
    Observation,
    PodState,
    ServiceState,
    WorkloadState,
    emergency_service_name,
    resolve_node,
)
from flows.checklist.parameters import ChecklistParameters
from flows.checklist.proposals import matches
from integrations.kubernetes import (
    Forbidden,
    Kube,
    NotFound,
    PermanentKubeError,
    Unauthorized,
)
from integrations.kubernetes.views import DaemonSet, Deployment, Pod, ReplicaSet, StatefulSet

WorkloadView = Deployment | ReplicaSet | StatefulSet

KUBE_SYSTEM = "kube-system"
KUBE_PROXY = "kube-proxy"
KUBE_PROXY_SELECTOR = {"k8s-app": "kube-proxy"}
MAX_LOGGED_PODS = 8
"""Most kube-proxy pods whose log one observation reads (the not-Ready ones first)."""
MAX_EVENT_PODS = 5
"""Most not-Ready application pods whose Events one observation reads."""
LOG_TAIL_LINES = 50


class Part(Flag):
    """What an observation covers."""

    SERVICE = auto()
    KUBE_PROXY = auto()
    NODES = auto()
    ALL = SERVICE | KUBE_PROXY | NODES


@dataclass(frozen=True, slots=True)
class ServiceView:
    """The Service part of an observation."""

    service: ServiceState | None
    endpoints: EndpointState | None = None
    pods: tuple[PodState, ...] = ()
    namespace_pods: tuple[PodState, ...] | None = None
    workloads: tuple[WorkloadState, ...] | None = None
    unreadable_workloads: tuple[str, ...] = ()
    emergency: ServiceState | None = None


def observe(
    kube: Kube,
    parameters: ChecklistParameters,
    *,
    parts: Part = Part.ALL,
    log_nodes: frozenset[str] = frozenset(),
) -> Observation:
    """Observe what `parameters` point at.

    Args:
        kube: The cluster.
        parameters: The run's target (Service, node or cluster).
        parts: What to read; what is left out stays empty (None) in the observation.
        log_nodes: Nodes whose kube-proxy log is read even when the pod is Ready.
    """
    observation = Observation(
        namespace=parameters.namespace,
        service_name=parameters.service,
        instance=parameters.instance,
    )
    if Part.NODES in parts:
        nodes = tuple(node_state(n) for n in kube.list_nodes())
        observation = replace(observation, nodes=nodes)
        target = resolve_node(parameters.instance, nodes) if parameters.instance else None
        if target is not None:
            log_nodes = log_nodes | {target.name}
    if Part.SERVICE in parts and parameters.namespace and parameters.service:
        view = observe_service(kube, parameters.namespace, parameters.service)
        observation = replace(
            observation,
            service=view.service,
            endpoints=view.endpoints,
            pods=view.pods,
            namespace_pods=view.namespace_pods,
            workloads=view.workloads,
            unreadable_workloads=view.unreadable_workloads,
            emergency_service=view.emergency,
        )
    if Part.KUBE_PROXY in parts:
        observation = replace(observation, kube_proxy=observe_kube_proxy(kube, log_nodes))
    return observation


def observe_service(kube: Kube, namespace: str, name: str) -> ServiceView:
    """The Service, its endpoints, its pods (and their Events), and its emergency Service."""
    try:
        service = kube.get_service(name, namespace)
    except NotFound:
        return ServiceView(service=None)
    state = service_state(service)
    if state.type == "ExternalName":
        return ServiceView(service=state)
    pods: tuple[PodState, ...] = ()
    namespace_pods: tuple[PodState, ...] | None = None
    workloads: tuple[WorkloadState, ...] | None = None
    unreadable: tuple[str, ...] = ()
    if state.selector:
        selected = kube.list_pods(namespace, label_selector=dict(state.selector))
        pods = tuple(_with_events(kube, selected))
        if not pods:
            namespace_pods = tuple(pod_state(p) for p in kube.list_pods(namespace))
        # Only a Service without a Ready pod needs to know why: scaled to zero, rolling out.
        if not any(p.ready for p in pods):
            workloads, unreadable = observe_workloads(kube, namespace, state.selector)
    return ServiceView(
        service=state,
        endpoints=observe_endpoints(kube, namespace, name),
        pods=pods,
        namespace_pods=namespace_pods,
        workloads=workloads,
        unreadable_workloads=unreadable,
        emergency=_emergency(kube, namespace, name),
    )


def observe_workloads(
    kube: Kube, namespace: str, selector: Mapping[str, str]
) -> tuple[tuple[WorkloadState, ...], tuple[str, ...]]:
    """The workloads of `namespace` whose pod template `selector` matches, and the kinds that
    could not be read (RBAC: a role may leave StatefulSets out)."""
    found: list[WorkloadState] = []
    unreadable: list[str] = []
    listers: tuple[tuple[str, Callable[[str], Sequence[WorkloadView]]], ...] = (
        ("Deployments", kube.list_deployments),
        ("ReplicaSets", kube.list_replica_sets),
        ("StatefulSets", kube.list_stateful_sets),
    )
    for kinds, list_them in listers:
        try:
            listed = list_them(namespace)
        except Forbidden:
            unreadable.append(kinds)
            continue
        found += [workload_state(w) for w in listed if matches(selector, w.template_labels)]
    return tuple(found), tuple(unreadable)


def observe_endpoints(kube: Kube, namespace: str, name: str) -> EndpointState:
    """Ready and not-ready addresses, from the EndpointSlices (legacy Endpoints without any)."""
    slices = kube.list_endpoint_slices(namespace, service_name=name)
    if slices:
        return endpoint_state(slices)
    try:
        return endpoint_state((), kube.get_endpoints(name, namespace))
    except NotFound:
        return EndpointState()


def _with_events(kube: Kube, pods: list[Pod]) -> list[PodState]:
    states = []
    troubled = 0
    for pod in pods:
        if pod.ready or troubled >= MAX_EVENT_PODS:
            states.append(pod_state(pod))
            continue
        troubled += 1
        namespace = pod.meta.namespace or "default"
        events = kube.list_events_for(namespace, kind="Pod", name=pod.meta.name, uid=pod.meta.uid)
        states.append(pod_state(pod, events))
    return states


def _emergency(kube: Kube, namespace: str, service: str) -> ServiceState | None:
    try:
        return service_state(kube.get_service(emergency_service_name(service), namespace))
    except NotFound:
        return None


def observe_kube_proxy(kube: Kube, log_nodes: frozenset[str] = frozenset()) -> KubeProxyState:
    """kube-proxy's DaemonSet and pods, with the error lines of the logs worth reading."""
    daemon_set: DaemonSet | None
    try:
        daemon_set = kube.get_daemon_set(KUBE_PROXY, KUBE_SYSTEM)
    except NotFound:
        daemon_set = None
    current_hash = None
    if daemon_set is not None:
        try:
            revisions = kube.list_daemon_set_revisions(daemon_set)
        except Forbidden:
            # Without its revisions, which pods run the current template is unknown, not false.
            revisions = []
        current_hash = current_revision_hash(daemon_set, revisions)
    pods = kube.list_pods(KUBE_SYSTEM, label_selector=KUBE_PROXY_SELECTOR)
    to_read = _pods_to_log(pods, log_nodes)
    states = tuple(
        kube_proxy_pod(
            pod,
            current_hash=current_hash,
            error_lines=_error_lines(kube, pod) if pod.meta.name in to_read else (),
        )
        for pod in pods
    )
    ds = kube_proxy_daemon_set(daemon_set) if daemon_set is not None else None
    return KubeProxyState(daemon_set=ds, pods=states)


def _pods_to_log(pods: list[Pod], log_nodes: frozenset[str]) -> set[str]:
    asked = [p for p in pods if p.node_name in log_nodes and not p.meta.deleting]
    failing = [p for p in pods if not p.ready and not p.meta.deleting and p not in asked]
    return {p.meta.name for p in (asked + failing)[: max(MAX_LOGGED_PODS, len(asked))]}


def _error_lines(kube: Kube, pod: Pod) -> tuple[str, ...]:
    try:
        log = kube.read_pod_log(pod.meta.name, KUBE_SYSTEM, tail_lines=LOG_TAIL_LINES)
    except (Forbidden, Unauthorized):
        raise
    except PermanentKubeError:
        # No log yet (container creating) or the pod just went away: no evidence, not a failure.
        return ()
    return error_lines(log)
