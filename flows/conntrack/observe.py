"""Reading what a cleanup is decided from: Services and endpoints, live pods, each node's table."""

from __future__ import annotations

from flows.conntrack.entries import COUNT_COMMAND, list_command, parse_entries
from flows.conntrack.plan import NodeTable, Observation, ServiceBackends, Target
from integrations.kubernetes import Kube, NotFound
from integrations.kubernetes.views import Pod, Service

KUBE_SYSTEM = "kube-system"
KUBE_PROXY_SELECTOR = {"k8s-app": "kube-proxy"}
EXEC_TIMEOUT_SECONDS = 30.0


class TargetNotFoundError(Exception):
    """The Service the operator named does not exist."""


def observe(kube: Kube, target: Target) -> Observation:
    """Read the Services (or the one asked for), live pods and every node's matching entries.

    Raises:
        TargetNotFoundError: ``target`` names a Service that does not exist.
    """
    services = _services(kube, target)
    pods = kube.list_pods()
    live = {
        pod.pod_ip: f"{pod.meta.namespace}/{pod.meta.name}"
        for pod in pods
        if pod.pod_ip and pod.meta.deletion_timestamp is None and pod.phase != "Succeeded"
    }
    proxies = [pod for pod in pods if _is_kube_proxy(pod)]
    filters = _list_filters(target, services)
    nodes = tuple(
        _read_table(kube, pod, filters, count_only=target.full_flush)
        for pod in sorted(proxies, key=lambda p: p.node_name or "")
    )
    return Observation(nodes=nodes, services=services, live_pods=live)


def backends(kube: Kube, service: Service) -> ServiceBackends:
    """A Service's ClusterIP and the addresses of all its endpoints now (ready or not)."""
    namespace = service.meta.namespace or "default"
    slices = kube.list_endpoint_slices(namespace, service_name=service.meta.name)
    ips = {address for s in slices for endpoint in s.endpoints for address in endpoint.addresses}
    return ServiceBackends(namespace, service.meta.name, service.cluster_ip or "", frozenset(ips))


def _services(kube: Kube, target: Target) -> tuple[ServiceBackends, ...]:
    if target.service is not None:
        try:
            service = kube.get_service(target.service, target.namespace or "default")
        except NotFound as error:
            raise TargetNotFoundError(
                f"Service {target.namespace}/{target.service} does not exist"
            ) from error
        found = [service]
    else:
        found = kube.list_services(target.namespace)
    return tuple(backends(kube, s) for s in found if s.cluster_ip and s.cluster_ip != "None")


def _is_kube_proxy(pod: Pod) -> bool:
    return pod.meta.namespace == KUBE_SYSTEM and all(
        pod.meta.labels.get(key) == value for key, value in KUBE_PROXY_SELECTOR.items()
    )


def _list_filters(target: Target, services: tuple[ServiceBackends, ...]) -> list[list[str]]:
    """The ``conntrack -L`` filters to read only what the target can select."""
    if target.pod_ip is not None:
        return [["--reply-src", target.pod_ip]]
    if target.service is not None:
        return [["--orig-dst", service.cluster_ip] for service in services]
    # Every Service: UDP only. Stale UDP entries (DNS above all) keep traffic going to a gone
    # pod until they expire; TCP to a gone pod is reset, and a node's full TCP table is big.
    return [["-p", "udp"]]


def _read_table(kube: Kube, pod: Pod, filters: list[list[str]], *, count_only: bool) -> NodeTable:
    node = pod.node_name or "?"
    if pod.phase != "Running" or not pod.ready:
        return NodeTable(node, pod.meta.name, problem=f"kube-proxy pod {pod.meta.name} not Ready")
    commands = [COUNT_COMMAND] if count_only else [list_command(*f) for f in filters]
    entries, count = [], None
    for command in commands:
        result = kube.exec_in_pod(
            pod.meta.name, KUBE_SYSTEM, command, timeout_seconds=EXEC_TIMEOUT_SECONDS
        )
        if result.exit_code != 0:
            problem = f"`{' '.join(command)}` exited {result.exit_code}: {result.stderr.strip()}"
            return NodeTable(node, pod.meta.name, problem=problem)
        if count_only:
            count = int(result.stdout.strip() or 0)
        else:
            entries += parse_entries(result.stdout)
    return NodeTable(node, pod.meta.name, entries=tuple(entries), count=count)
