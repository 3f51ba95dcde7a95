"""Pure endpoint computation: which pod addresses and ports back a Service, and their objects."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from simcluster.controllers.podstatus import is_ready

Obj = dict[str, Any]
SERVICE_NAME_LABEL = "kubernetes.io/service-name"
MANAGED_BY_LABEL = "endpointslice.kubernetes.io/managed-by"
MANAGED_BY = "endpointslice-controller.k8s.io"


@dataclass(frozen=True, order=True)
class EndpointPort:
    """One port of an endpoint (the Service port's name, the resolved pod port, protocol)."""

    name: str
    port: int
    protocol: str


@dataclass(frozen=True)
class Address:
    """One pod backing a Service."""

    ip: str
    node_name: str
    pod_name: str
    pod_uid: str
    namespace: str
    ready: bool


@dataclass(frozen=True)
class EndpointGroup:
    """Pods that resolve the Service's ports to the same numbers (one subset / one slice)."""

    ports: tuple[EndpointPort, ...]
    addresses: tuple[Address, ...]


def resolve_target_port(pod: Obj, service_port: Obj) -> int | None:
    """The pod port a Service port sends to: a number as is, a name looked up in the pod."""
    target = service_port.get("targetPort", service_port.get("port"))
    if isinstance(target, int):
        return target
    if isinstance(target, str) and target.isdigit():
        return int(target)
    protocol = service_port.get("protocol", "TCP")
    for container in (pod.get("spec") or {}).get("containers") or []:
        for port in container.get("ports") or []:
            if port.get("name") == target and port.get("protocol", "TCP") == protocol:
                return int(port["containerPort"])
    return None


def _serves(pod: Obj) -> bool:
    status = pod.get("status") or {}
    return (
        bool(status.get("podIP"))
        and status.get("phase") not in ("Succeeded", "Failed")
        and not pod["metadata"].get("deletionTimestamp")
    )


def compute_endpoint_groups(service: Obj, pods: Iterable[Obj]) -> list[EndpointGroup]:
    """Group the Service's pods by resolved ports (pods resolving none of them are left out).

    Args:
        service: The Service (its ``spec.ports`` and ``publishNotReadyAddresses``).
        pods: Pods its selector matches.
    """
    spec = service.get("spec") or {}
    publish_not_ready = bool(spec.get("publishNotReadyAddresses"))
    service_ports = spec.get("ports") or []
    groups: dict[tuple[EndpointPort, ...], list[Address]] = {}
    for pod in pods:
        if not _serves(pod):
            continue
        resolved = []
        for port in service_ports:
            number = resolve_target_port(pod, port)
            if number is not None:
                resolved.append(
                    EndpointPort(port.get("name", ""), number, port.get("protocol", "TCP"))
                )
        if service_ports and not resolved:
            continue
        meta = pod["metadata"]
        address = Address(
            ip=pod["status"]["podIP"],
            node_name=pod["spec"].get("nodeName", ""),
            pod_name=meta["name"],
            pod_uid=meta.get("uid", ""),
            namespace=meta.get("namespace", ""),
            ready=publish_not_ready or is_ready(pod),
        )
        groups.setdefault(tuple(sorted(resolved)), []).append(address)
    return [
        EndpointGroup(ports, tuple(sorted(addresses, key=lambda a: a.ip)))
        for ports, addresses in sorted(groups.items())
    ]


def _port_dicts(ports: tuple[EndpointPort, ...]) -> list[Obj]:
    rendered = []
    for port in ports:
        item: Obj = {"port": port.port, "protocol": port.protocol}
        if port.name:
            item["name"] = port.name
        rendered.append(item)
    return rendered


def _target_ref(address: Address) -> Obj:
    return {
        "kind": "Pod",
        "namespace": address.namespace,
        "name": address.pod_name,
        "uid": address.pod_uid,
    }


def endpoints_subsets(groups: list[EndpointGroup]) -> list[Obj]:
    """The ``subsets`` of the Service's Endpoints object."""
    subsets = []
    for group in groups:
        subset: Obj = {}
        for key, ready in (("addresses", True), ("notReadyAddresses", False)):
            chosen = [a for a in group.addresses if a.ready is ready]
            if chosen:
                subset[key] = [
                    {"ip": a.ip, "nodeName": a.node_name, "targetRef": _target_ref(a)}
                    for a in chosen
                ]
        if group.ports:
            subset["ports"] = _port_dicts(group.ports)
        subsets.append(subset)
    return subsets


def slice_body(group: EndpointGroup | None) -> Obj:
    """The ``addressType``, ``endpoints`` and ``ports`` of one EndpointSlice (None: placeholder)."""
    if group is None:
        return {"addressType": "IPv4", "endpoints": [], "ports": []}
    endpoints = [
        {
            "addresses": [a.ip],
            "conditions": {"ready": a.ready, "serving": a.ready, "terminating": False},
            "nodeName": a.node_name,
            "targetRef": _target_ref(a),
        }
        for a in group.addresses
    ]
    return {"addressType": "IPv4", "endpoints": endpoints, "ports": _port_dicts(group.ports)}


def service_labels(service: Obj) -> dict[str, str]:
    """Labels an EndpointSlice of the Service carries."""
    labels = dict(service["metadata"].get("labels") or {})
    labels[SERVICE_NAME_LABEL] = service["metadata"]["name"]
    labels[MANAGED_BY_LABEL] = MANAGED_BY
    return labels
