"""Reading what the preventive flows look at: Services, their endpoints, kube-proxy, conntrack."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from integrations.kubernetes import Kube, NotFound
from integrations.kubernetes.views import DaemonSet, EndpointSlice, Pod, Service

KUBE_SYSTEM = "kube-system"
KUBE_PROXY = "kube-proxy"
DNS_SERVICE = "kube-dns"
COUNT_FILE = "/proc/sys/net/netfilter/nf_conntrack_count"
MAX_FILE = "/proc/sys/net/netfilter/nf_conntrack_max"


@dataclass(frozen=True, slots=True)
class ConntrackUse:
    """A node's conntrack table: entries now and its size, or why they could not be read."""

    node: str
    count: int | None
    limit: int | None
    problem: str | None = None


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The cluster as the preventive flows see it, read at one moment."""

    services: tuple[Service, ...]
    slices: tuple[EndpointSlice, ...]
    kube_proxy: DaemonSet | None
    kube_proxy_pods: tuple[Pod, ...]
    conntrack: tuple[ConntrackUse, ...] = ()
    config_map: Mapping[str, Any] | None = field(default=None, repr=False)

    def ready_addresses(self, service: Service) -> int:
        """How many ready endpoint addresses the Service's EndpointSlices hold."""
        return sum(
            len(endpoint.addresses)
            for s in self.slices
            if s.service_name == service.meta.name and s.meta.namespace == service.meta.namespace
            for endpoint in s.endpoints
            if endpoint.counts_as_ready
        )

    def without_endpoints(self) -> list[Service]:
        """Services that select pods but have no ready endpoint (ExternalName and selector-less
        Services, whose endpoints are managed by hand, are left out)."""
        return [
            service
            for service in self.services
            if service.type != "ExternalName"
            and service.selector
            and self.ready_addresses(service) == 0
        ]

    def dns_service(self) -> Service | None:
        """The cluster DNS Service (kube-system/kube-dns), if there is one."""
        return next(
            (
                s
                for s in self.services
                if s.meta.namespace == KUBE_SYSTEM and s.meta.name == DNS_SERVICE
            ),
            None,
        )


def take_snapshot(kube: Kube, *, conntrack: bool = False, config_map: bool = False) -> Snapshot:
    """Read Services, EndpointSlices and kube-proxy (with each node's conntrack use if asked)."""
    try:
        daemon_set: DaemonSet | None = kube.get_daemon_set(KUBE_PROXY, KUBE_SYSTEM)
    except NotFound:
        daemon_set = None
    pods = tuple(kube.list_pods(KUBE_SYSTEM, label_selector={"k8s-app": KUBE_PROXY}))
    cm: Mapping[str, Any] | None = None
    if config_map:
        try:
            cm = kube.get_config_map(KUBE_PROXY, KUBE_SYSTEM).raw
        except NotFound:
            cm = None
    return Snapshot(
        services=tuple(kube.list_services()),
        slices=tuple(kube.list_endpoint_slices()),
        kube_proxy=daemon_set,
        kube_proxy_pods=pods,
        conntrack=tuple(_conntrack_use(kube, pod) for pod in pods) if conntrack else (),
        config_map=cm,
    )


def _conntrack_use(kube: Kube, pod: Pod) -> ConntrackUse:
    node = pod.node_name or "?"
    if pod.phase != "Running" or not pod.ready:
        return ConntrackUse(node, None, None, problem=f"kube-proxy pod {pod.meta.name} not Ready")
    result = kube.exec_in_pod(pod.meta.name, KUBE_SYSTEM, ["cat", COUNT_FILE, MAX_FILE])
    numbers = result.stdout.split()
    if result.exit_code != 0 or len(numbers) != 2 or not all(n.isdigit() for n in numbers):
        return ConntrackUse(node, None, None, problem=f"could not read {COUNT_FILE}")
    return ConntrackUse(node, int(numbers[0]), int(numbers[1]))
