"""What the checklist observed: small frozen models the diagnosis and planning read."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

EMPTY_LABELS: Mapping[str, str] = MappingProxyType({})


@dataclass(frozen=True, slots=True, kw_only=True)
class ServicePortState:
    """One port of a Service; ``target_port`` is a number or a container port's name."""

    port: int
    target_port: int | str
    protocol: str = "TCP"
    name: str | None = None
    node_port: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ServiceState:
    """The Service's configuration fields that decide where its traffic goes."""

    namespace: str
    name: str
    type: str = "ClusterIP"
    cluster_ip: str | None = None
    selector: Mapping[str, str] = field(default_factory=lambda: EMPTY_LABELS)
    ports: tuple[ServicePortState, ...] = ()
    external_traffic_policy: str | None = None
    external_name: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class EndpointState:
    """The Service's endpoints, counted over its EndpointSlices (or legacy Endpoints).

    Attributes:
        ready: Ready addresses.
        not_ready: Addresses published but not ready.
        ready_nodes: Nodes that host at least one ready endpoint (for ``Local`` traffic policy).
    """

    ready: int = 0
    not_ready: int = 0
    ready_nodes: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True, kw_only=True)
class ContainerPortState:
    """A port a pod's container declares."""

    number: int
    name: str | None = None
    protocol: str = "TCP"


@dataclass(frozen=True, slots=True, kw_only=True)
class PodEvent:
    """A recent Event about a pod (e.g. ``Unhealthy: Readiness probe failed: ...``)."""

    reason: str
    message: str
    type: str = "Warning"
    count: int = 1


@dataclass(frozen=True, slots=True, kw_only=True)
class PodState:
    """A pod: where it runs, whether it is Ready, and why not.

    Attributes:
        waiting_reasons: Containers' waiting reasons (``CrashLoopBackOff``, ``ImagePullBackOff``).
        owner_kind: Kind of the controller that recreates the pod; None for a bare pod.
        events: Recent Events about the pod, newest last.
        unschedulable: Why no node can take the pod (the scheduler's message); None once placed.
    """

    namespace: str
    name: str
    uid: str = ""
    labels: Mapping[str, str] = field(default_factory=lambda: EMPTY_LABELS)
    node_name: str | None = None
    pod_ip: str | None = None
    phase: str = "Running"
    ready: bool = True
    restart_count: int = 0
    waiting_reasons: tuple[str, ...] = ()
    container_ports: tuple[ContainerPortState, ...] = ()
    owner_kind: str | None = None
    owner_name: str | None = None
    deleting: bool = False
    events: tuple[PodEvent, ...] = ()
    unschedulable: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class WorkloadState:
    """A Deployment, ReplicaSet or StatefulSet whose pod template the Service's selector matches.

    Attributes:
        kind: ``Deployment``, ``ReplicaSet`` or ``StatefulSet``.
        replicas: ``spec.replicas``: how many pods it wants.
        current: ``status.replicas``: how many pods it has.
        ready: Of those, how many are Ready.
        updated: How many run its current template; None where the kind does not say.
        generation: ``metadata.generation``.
        observed_generation: The generation its controller last acted on.
        owner: The workload controlling it (``Deployment/web`` for a Deployment's ReplicaSet).
    """

    kind: str
    namespace: str
    name: str
    replicas: int
    current: int = 0
    ready: int = 0
    updated: int | None = None
    generation: int | None = None
    observed_generation: int | None = None
    owner: str | None = None

    @property
    def ref(self) -> str:
        """``Deployment shop/web``, for humans."""
        return f"{self.kind} {self.namespace}/{self.name}"

    @property
    def subject(self) -> str:
        """``shop/deployment/web``, a finding's subject."""
        return f"{self.namespace}/{self.kind.lower()}/{self.name}"

    @property
    def rollout_observed(self) -> bool:
        """Whether its controller has acted on its latest spec."""
        if self.generation is None or self.observed_generation is None:
            return True
        return self.observed_generation >= self.generation


@dataclass(frozen=True, slots=True, kw_only=True)
class KubeProxyPod:
    """kube-proxy's pod on one node, with the error lines of its recent log.

    Attributes:
        updated: Whether the pod runs the DaemonSet's current template; None when unknown.
        error_lines: Error lines of the recent log (e.g. ``Failed to execute iptables-restore``).
    """

    name: str
    node_name: str | None
    uid: str = ""
    phase: str = "Running"
    ready: bool = True
    restart_count: int = 0
    waiting_reasons: tuple[str, ...] = ()
    updated: bool | None = None
    deleting: bool = False
    error_lines: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class KubeProxyDaemonSet:
    """The kube-proxy DaemonSet's rollout counters."""

    desired: int
    ready: int
    updated: int
    available: int | None = None
    generation: int | None = None
    observed_generation: int | None = None

    @property
    def rollout_observed(self) -> bool:
        """Whether the controller has seen the latest spec."""
        if self.generation is None:
            return True
        return self.observed_generation is not None and self.observed_generation >= self.generation


@dataclass(frozen=True, slots=True, kw_only=True)
class KubeProxyState:
    """kube-proxy as observed: the DaemonSet (None when absent) and its pods."""

    daemon_set: KubeProxyDaemonSet | None
    pods: tuple[KubeProxyPod, ...] = ()

    def pod_on(self, node: str) -> KubeProxyPod | None:
        """The live (not deleting) kube-proxy pod on `node`, if any."""
        return next((p for p in self.pods if p.node_name == node and not p.deleting), None)


@dataclass(frozen=True, slots=True, kw_only=True)
class NodeState:
    """A node: its name, whether it is Ready, and its internal address."""

    name: str
    ready: bool = True
    internal_ip: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Observation:
    """Everything the checklist looked at, collected with few, selector-scoped API calls.

    Attributes:
        namespace: The namespace of the Service asked about (None outside scope service).
        service_name: The name of the Service asked about.
        service: The Service; None when it does not exist (or none was asked about).
        endpoints: Its endpoints; None when not collected.
        pods: Pods matching the Service's selector.
        namespace_pods: Other pods of the namespace, collected only when the selector matches
            none (for spotting a near-miss selector); None when not collected.
        workloads: The workloads whose pod template the selector matches, collected only when
            no selected pod is Ready; None when not collected.
        unreadable_workloads: Kinds of workload that could not be read (RBAC), so a workload
            of that kind the selector matches cannot be ruled out.
        emergency_service: The Service's emergency NodePort Service, when it already exists.
        kube_proxy: kube-proxy's DaemonSet and pods; None when not collected.
        nodes: The cluster's nodes.
        instance: The node the run is scoped to (scope node): a name or address.
        kube_proxy_everywhere: The run owns the cluster's kube-proxy incident, so kube-proxy
            is judged on every node whatever its scope.
        other_alerts_firing: Other alerts of the same name firing now; None when unknown.
        other_alerts_confirmed: Alertmanager's API confirmed them firing; False when only the
            receiver's record counted them (recent runs without a recorded resolution).
    """

    namespace: str | None = None
    service_name: str | None = None
    service: ServiceState | None = None
    endpoints: EndpointState | None = None
    pods: tuple[PodState, ...] = ()
    namespace_pods: tuple[PodState, ...] | None = None
    workloads: tuple[WorkloadState, ...] | None = None
    unreadable_workloads: tuple[str, ...] = ()
    emergency_service: ServiceState | None = None
    kube_proxy: KubeProxyState | None = None
    nodes: tuple[NodeState, ...] = ()
    instance: str | None = None
    kube_proxy_everywhere: bool = False
    other_alerts_firing: int | None = None
    other_alerts_confirmed: bool = True

    def pod(self, name: str) -> PodState | None:
        """The selected pod called `name`, if still there."""
        return next((p for p in self.pods if p.name == name), None)

    @property
    def target_node(self) -> NodeState | None:
        """The node `instance` names, if it names one."""
        return None if self.instance is None else resolve_node(self.instance, self.nodes)

    @property
    def ready_pods(self) -> tuple[PodState, ...]:
        """Selected pods that are Ready and not being deleted."""
        return tuple(p for p in self.pods if p.ready and not p.deleting)


EMERGENCY_LABEL = "service-runbooks.io/emergency"
"""Label (value ``"true"``) on every emergency NodePort Service the checklist creates."""

EMERGENCY_SUFFIX = "-emergency"


def emergency_service_name(service: str) -> str:
    """The emergency NodePort Service's name: ``<svc>-emergency``, kept within 63 characters."""
    head = service[: 63 - len(EMERGENCY_SUFFIX)].rstrip("-")
    return f"{head}{EMERGENCY_SUFFIX}"


def resolve_node(instance: str, nodes: tuple[NodeState, ...]) -> NodeState | None:
    """The node an alert's ``instance`` names: a node name or address, maybe with a port."""
    host = instance.strip()
    if host.startswith("[") and "]" in host:
        host = host[1 : host.index("]")]
    elif host.count(":") == 1:
        host = host.split(":", 1)[0]
    return next((n for n in nodes if host in (n.name, n.internal_ip)), None)
