"""Pure endpoint computation: which pod addresses and ports back a Service, and their objects."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import KW_ONLY, dataclass, field
from typing import Any

from simcluster.controllers.podstatus import is_ready

Obj = dict[str, Any]
SERVICE_NAME_LABEL = "kubernetes.io/service-name"
MANAGED_BY_LABEL = "endpointslice.kubernetes.io/managed-by"
MANAGED_BY = "endpointslice-controller.k8s.io"
# The EndpointSlice controller's --max-endpoints-per-slice default.
MAX_ENDPOINTS_PER_SLICE = 100
# The endpoints controller keeps at most this many addresses in an Endpoints object, and marks
# one it had to truncate with the annotation.
ENDPOINTS_CAPACITY = 1000
OVER_CAPACITY_ANNOTATION = "endpoints.kubernetes.io/over-capacity"


@dataclass(frozen=True, order=True)
class EndpointPort:
    """One port of an endpoint (the Service port's name, the resolved pod port, protocol)."""

    name: str
    port: int
    protocol: str


@dataclass(frozen=True)
class Address:
    """One pod backing a Service, with its EndpointSlice conditions.

    Attributes:
        ready: Whether it takes new traffic: Ready and not terminating (always, with
            ``publishNotReadyAddresses``).
        serving: Whether the pod is Ready, terminating or not.
        terminating: Whether the pod is being deleted (in its grace period).
    """

    ip: str
    node_name: str
    pod_name: str
    pod_uid: str
    namespace: str
    ready: bool
    _: KW_ONLY
    serving: bool
    terminating: bool = False


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
    # Terminating pods stay (as not ready) until they are gone, as in the EndpointSlice
    # controller; the Endpoints object leaves them out (`endpoints_subsets`).
    status = pod.get("status") or {}
    return bool(status.get("podIP")) and status.get("phase") not in ("Succeeded", "Failed")


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
        serving, terminating = is_ready(pod), bool(meta.get("deletionTimestamp"))
        address = Address(
            ip=pod["status"]["podIP"],
            node_name=pod["spec"].get("nodeName", ""),
            pod_name=meta["name"],
            pod_uid=meta.get("uid", ""),
            namespace=meta.get("namespace", ""),
            ready=publish_not_ready or (serving and not terminating),
            serving=serving,
            terminating=terminating,
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
    """The ``subsets`` of the Service's Endpoints object (terminating pods left out)."""
    subsets = []
    for group in groups:
        subset: Obj = {}
        # A terminating pod is still ready only under publishNotReadyAddresses, which keeps it.
        listed = [a for a in group.addresses if a.ready or not a.terminating]
        if not listed:
            continue
        for key, ready in (("addresses", True), ("notReadyAddresses", False)):
            chosen = [a for a in listed if a.ready is ready]
            if chosen:
                subset[key] = [
                    {"ip": a.ip, "nodeName": a.node_name, "targetRef": _target_ref(a)}
                    for a in chosen
                ]
        if group.ports:
            subset["ports"] = _port_dicts(group.ports)
        subsets.append(subset)
    return subsets


def truncate_subsets(subsets: list[Obj], *, capacity: int = ENDPOINTS_CAPACITY) -> bool:
    """Cut Endpoints subsets down to ``capacity`` addresses, as the endpoints controller does.

    Not-ready addresses go first; only when the ready ones alone overflow are those cut too
    (and every not-ready one dropped). Each subset keeps its share, rounded up.

    Returns:
        Whether anything was cut (the object then carries `OVER_CAPACITY_ANNOTATION`).
    """
    ready = sum(len(s.get("addresses") or []) for s in subsets)
    not_ready = sum(len(s.get("notReadyAddresses") or []) for s in subsets)
    if ready + not_ready <= capacity:
        return False
    cut_ready = ready > capacity
    key = "addresses" if cut_ready else "notReadyAddresses"
    budget = capacity if cut_ready else capacity - ready
    total = ready if cut_ready else not_ready
    left = budget
    for subset in subsets:
        have = subset.get(key) or []
        kept = have[: min(math.ceil((len(have) / total) * budget), left)]
        left -= len(kept)
        subset.pop(key, None)
        if kept:
            subset[key] = kept
        if cut_ready:
            subset.pop("notReadyAddresses", None)
    return True


def slice_body(group: EndpointGroup | None) -> Obj:
    """The ``addressType``, ``endpoints`` and ``ports`` of one EndpointSlice (None: placeholder)."""
    if group is None:
        return {"addressType": "IPv4", "endpoints": [], "ports": []}
    endpoints = [
        {
            "addresses": [a.ip],
            "conditions": {"ready": a.ready, "serving": a.serving, "terminating": a.terminating},
            "nodeName": a.node_name,
            "targetRef": _target_ref(a),
        }
        for a in group.addresses
    ]
    return {"addressType": "IPv4", "endpoints": endpoints, "ports": _port_dicts(group.ports)}


@dataclass
class SlicePlan:
    """How a Service's EndpointSlices change.

    Attributes:
        writes: Each slice's content, with the existing slice it rewrites (None: a new one).
        deletes: Names of existing slices no longer needed.
    """

    writes: list[tuple[str | None, EndpointGroup]] = field(default_factory=list)
    deletes: list[str] = field(default_factory=list)


def _slice_ports(existing: Obj) -> tuple[EndpointPort, ...]:
    return tuple(
        sorted(
            EndpointPort(
                str(p.get("name") or ""), int(p.get("port") or 0), p.get("protocol", "TCP")
            )
            for p in existing.get("ports") or []
        )
    )


def _slice_keys(existing: Obj) -> list[tuple[str, str]]:
    """Each endpoint of a stored slice as (address, pod uid)."""
    return [
        (str((e.get("addresses") or [""])[0]), str((e.get("targetRef") or {}).get("uid", "")))
        for e in existing.get("endpoints") or []
    ]


def plan_slices(
    existing: Sequence[Obj],
    groups: Sequence[EndpointGroup],
    *,
    max_per_slice: int = MAX_ENDPOINTS_PER_SLICE,
) -> SlicePlan:
    """Spread a Service's endpoints over slices of ``max_per_slice`` at most, like its controller.

    Endpoints stay in the slice that already holds them; new ones fill slices with room, then
    new slices. A slice left empty is rewritten as a new one rather than deleted (so names stay
    stable), and a Service without endpoints keeps one empty placeholder slice.

    Args:
        existing: The Service's slices as stored.
        groups: Its endpoints, grouped by ports (from `compute_endpoint_groups`).
        max_per_slice: Endpoints per slice (``--max-endpoints-per-slice``).

    Returns:
        The slices to write (each with its endpoints sorted by address) and those to delete.
    """
    pending = {g.ports: {(a.ip, a.pod_uid): a for a in g.addresses} for g in groups}
    filled: list[tuple[str | None, tuple[EndpointPort, ...], list[Address]]] = []
    spare: list[Obj] = []
    for current in sorted(existing, key=lambda s: str(s["metadata"]["name"])):
        ports = _slice_ports(current)
        pool = pending.get(ports, {})
        kept = [pool.pop(key) for key in _slice_keys(current) if key in pool]
        if kept:
            filled.append((current["metadata"]["name"], ports, kept))
        else:
            spare.append(current)
    for ports, pool in pending.items():
        left = list(pool.values())
        for _, slice_ports, addresses in filled:
            if slice_ports == ports and left:
                room = max(0, max_per_slice - len(addresses))
                addresses.extend(left[:room])
                left = left[room:]
        while left:
            filled.append((None, ports, left[:max_per_slice]))
            left = left[max_per_slice:]
    if not filled:
        filled.append((None, (), []))
    # Rewrite slices about to be deleted instead of creating new ones, an empty one first.
    spare.sort(key=lambda s: (bool(s.get("endpoints") or s.get("ports")), s["metadata"]["name"]))
    plan = SlicePlan()
    for name, ports, addresses in filled:
        if name is None and spare:
            name = spare.pop(0)["metadata"]["name"]
        plan.writes.append((name, EndpointGroup(ports, tuple(sorted(addresses, key=_by_ip)))))
    plan.deletes = [s["metadata"]["name"] for s in spare]
    return plan


def _by_ip(address: Address) -> str:
    return address.ip


def service_labels(service: Obj) -> dict[str, str]:
    """Labels an EndpointSlice of the Service carries."""
    labels = dict(service["metadata"].get("labels") or {})
    labels[SERVICE_NAME_LABEL] = service["metadata"]["name"]
    labels[MANAGED_BY_LABEL] = MANAGED_BY
    return labels
