"""Observations for tests: a healthy Service scene, and small builders to break it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from flows.checklist import (
    ChecklistParameters,
    ContainerPortState,
    EndpointState,
    KubeProxyDaemonSet,
    KubeProxyPod,
    KubeProxyState,
    NodeState,
    Observation,
    Plan,
    PodEvent,
    PodState,
    ServicePortState,
    ServiceState,
    diagnose,
    plan,
)
from flows.checklist.observation import WorkloadState
from runbooks.approval import ApprovalPolicy

NAMESPACE = "shop"
HTTP = ContainerPortState(number=8080, name="http")


def node_names(count: int) -> tuple[str, ...]:
    """``node-1`` ... ``node-<count>``."""
    return tuple(f"node-{i}" for i in range(1, count + 1))


def nodes(count: int, *, not_ready: tuple[str, ...] = ()) -> tuple[NodeState, ...]:
    """`count` nodes with InternalIPs 10.0.0.<i>."""
    return tuple(
        NodeState(name=name, ready=name not in not_ready, internal_ip=f"10.0.0.{i}")
        for i, name in enumerate(node_names(count), start=1)
    )


def service(
    *,
    selector: Mapping[str, str] | None = None,
    target_port: int | str = "http",
    type: str = "ClusterIP",
    external_traffic_policy: str | None = None,
) -> ServiceState:
    """The Service ``shop/web`` (port 80 -> targetPort ``http``)."""
    return ServiceState(
        namespace=NAMESPACE,
        name="web",
        type=type,
        cluster_ip="10.96.0.10",
        selector={"app": "web"} if selector is None else selector,
        ports=(ServicePortState(port=80, target_port=target_port, name="http"),),
        external_traffic_policy=external_traffic_policy,
    )


def _suffix(name: str) -> int:
    tail = name.rsplit("-", 1)[-1]
    return int(tail) if tail.isdigit() else 200


def pod(
    name: str,
    *,
    ready: bool = True,
    labels: Mapping[str, str] | None = None,
    node: str = "node-1",
    ports: tuple[ContainerPortState, ...] = (HTTP,),
    owner: str | None = "ReplicaSet",
    phase: str = "Running",
    waiting: tuple[str, ...] = (),
    restarts: int = 0,
    events: tuple[PodEvent, ...] = (),
) -> PodState:
    """An application pod of ``shop`` (labelled ``app=web`` unless told otherwise)."""
    return PodState(
        namespace=NAMESPACE,
        name=name,
        uid=f"uid-{name}",
        labels={"app": "web"} if labels is None else labels,
        node_name=node,
        pod_ip=f"10.244.0.{_suffix(name)}",
        phase=phase,
        ready=ready,
        restart_count=restarts,
        waiting_reasons=waiting,
        container_ports=ports,
        owner_kind=owner,
        owner_name="web-7d4b9" if owner else None,
        events=events,
    )


def unschedulable(name: str) -> PodState:
    """A pod no node has room for."""
    stuck = pod(name, ready=False, phase="Pending", node="")
    return replace(stuck, unschedulable="0/3 nodes are available: 3 Insufficient cpu.")


def workload(
    replicas: int,
    *,
    kind: str = "Deployment",
    name: str = "web",
    ready: int = 0,
    current: int | None = None,
    updated: int | None = None,
    generation: int = 2,
    observed: int = 2,
    owner: str | None = None,
) -> WorkloadState:
    """A workload of ``shop`` whose pod template ``app=web`` matches."""
    return WorkloadState(
        kind=kind,
        namespace=NAMESPACE,
        name=name,
        replicas=replicas,
        current=ready if current is None else current,
        ready=ready,
        updated=updated,
        generation=generation,
        observed_generation=observed,
        owner=owner,
    )


def crash_looping(name: str, *, owner: str | None = "ReplicaSet", restarts: int = 7) -> PodState:
    """A pod whose container keeps exiting."""
    return pod(name, ready=False, waiting=("CrashLoopBackOff",), restarts=restarts, owner=owner)


def failing_readiness(name: str) -> PodState:
    """A running pod whose readiness probe fails."""
    event = PodEvent(reason="Unhealthy", message="Readiness probe failed: HTTP probe failed")
    return pod(name, ready=False, events=(event,))


def proxy(
    node: str,
    *,
    ready: bool = True,
    crash: bool = False,
    updated: bool | None = True,
    errors: tuple[str, ...] = (),
) -> KubeProxyPod:
    """The kube-proxy pod on `node`."""
    return KubeProxyPod(
        name=f"kube-proxy-{node}",
        node_name=node,
        uid=f"uid-kube-proxy-{node}",
        ready=ready and not crash,
        restart_count=5 if crash else 0,
        waiting_reasons=("CrashLoopBackOff",) if crash else (),
        updated=updated,
        error_lines=errors,
    )


def kube_proxy(
    count: int, *, broken: Mapping[str, KubeProxyPod] | None = None, updated: int | None = None
) -> KubeProxyState:
    """kube-proxy on `count` nodes, healthy except for the `broken` pods by node."""
    broken = broken or {}
    pods = tuple(broken.get(name, proxy(name)) for name in node_names(count))
    daemon_set = KubeProxyDaemonSet(
        desired=count,
        ready=sum(p.ready for p in pods),
        updated=count if updated is None else updated,
        generation=2,
        observed_generation=2,
    )
    return KubeProxyState(daemon_set=daemon_set, pods=pods)


IPTABLES_ERROR = (
    'E1125 17:08:31.020000       1 proxier.go:1525] "Failed to execute iptables-restore" '
    'err="exit status 1"'
)


def healthy(node_count: int = 3) -> Observation:
    """``shop/web`` with two Ready pods, its endpoints, and kube-proxy fine on every node."""
    return Observation(
        namespace=NAMESPACE,
        service_name="web",
        service=service(),
        endpoints=EndpointState(ready=2, not_ready=0, ready_nodes=frozenset({"node-1"})),
        pods=(pod("web-1"), pod("web-2")),
        kube_proxy=kube_proxy(node_count),
        nodes=nodes(node_count),
        other_alerts_firing=0,
    )


def cluster_wide(node_count: int, **broken: KubeProxyPod) -> Observation:
    """A cluster-scope observation: kube-proxy and nodes only."""
    by_node = {key.replace("_", "-"): state for key, state in broken.items()}
    return Observation(
        kube_proxy=kube_proxy(node_count, broken=by_node),
        nodes=nodes(node_count),
    )


def parameters(**fields: object) -> ChecklistParameters:
    """Service-scope parameters for ``shop/web``, with `fields` overriding."""
    base: dict[str, object] = {"scope": "service", "namespace": NAMESPACE, "service": "web"}
    return ChecklistParameters.model_validate({**base, **fields})


DEFAULT_POLICY = ApprovalPolicy()


def plan_for(
    observation: Observation,
    params: ChecklistParameters | None = None,
    policy: ApprovalPolicy = DEFAULT_POLICY,
) -> Plan:
    """Diagnose `observation` and plan for it (service-scope parameters by default)."""
    return plan(diagnose(observation), observation, params or parameters(), policy)
