"""Service, Endpoints and EndpointSlice views: a Service and where its traffic may go."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from integrations.kubernetes.views.meta import (
    JsonObject,
    ObjectMeta,
    mapping,
    objects,
    optional_str,
    parse_meta,
)

SERVICE_NAME_LABEL = "kubernetes.io/service-name"
"""The label that ties an EndpointSlice to its Service."""


@dataclass(frozen=True, slots=True)
class ServicePort:
    """One entry of a Service's ``spec.ports``; ``target_port`` may be a number or a name."""

    name: str | None
    protocol: str
    port: int
    target_port: int | str
    node_port: int | None


@dataclass(frozen=True, slots=True)
class Service:
    """A Service's spec fields that matter in incidents; ``raw`` keeps the object for backups."""

    meta: ObjectMeta
    type: str
    cluster_ip: str | None
    selector: Mapping[str, str]
    ports: tuple[ServicePort, ...]
    external_traffic_policy: str | None
    internal_traffic_policy: str | None
    session_affinity: str
    publish_not_ready_addresses: bool
    health_check_node_port: int | None
    external_name: str | None
    raw: JsonObject = field(repr=False, compare=False)


@dataclass(frozen=True, slots=True)
class EndpointAddress:
    """An address in an Endpoints subset, with the node and pod behind it."""

    ip: str
    node_name: str | None
    target_kind: str | None
    target_name: str | None


@dataclass(frozen=True, slots=True)
class EndpointPort:
    """A port of an Endpoints subset or an EndpointSlice."""

    name: str | None
    port: int
    protocol: str


@dataclass(frozen=True, slots=True)
class EndpointSubset:
    """One subset of an Endpoints object: ready and not-ready addresses sharing ports."""

    ready_addresses: tuple[EndpointAddress, ...]
    not_ready_addresses: tuple[EndpointAddress, ...]
    ports: tuple[EndpointPort, ...]


@dataclass(frozen=True, slots=True)
class Endpoints:
    """The (legacy) Endpoints of a Service."""

    meta: ObjectMeta
    subsets: tuple[EndpointSubset, ...]
    raw: JsonObject = field(repr=False, compare=False)

    @property
    def ready_ips(self) -> tuple[str, ...]:
        """Ready addresses over all subsets."""
        return tuple(a.ip for s in self.subsets for a in s.ready_addresses)

    @property
    def not_ready_ips(self) -> tuple[str, ...]:
        """Not-ready addresses over all subsets."""
        return tuple(a.ip for s in self.subsets for a in s.not_ready_addresses)


@dataclass(frozen=True, slots=True)
class SliceEndpoint:
    """One endpoint of an EndpointSlice; a condition of None means the server left it unset."""

    addresses: tuple[str, ...]
    ready: bool | None
    serving: bool | None
    terminating: bool | None
    node_name: str | None
    target_name: str | None

    @property
    def counts_as_ready(self) -> bool:
        """Ready as consumers must read it: an unset ``ready`` means ready (API contract)."""
        return self.ready is not False


@dataclass(frozen=True, slots=True)
class EndpointSlice:
    """An EndpointSlice of a Service."""

    meta: ObjectMeta
    service_name: str | None
    address_type: str
    endpoints: tuple[SliceEndpoint, ...]
    ports: tuple[EndpointPort, ...]
    raw: JsonObject = field(repr=False, compare=False)


def _optional_int(value: Any) -> int | None:
    return value if isinstance(value, int) and value else None


def parse_service_port(obj: JsonObject) -> ServicePort:
    """Read one Service port; an absent ``targetPort`` defaults to ``port`` as in Kubernetes."""
    port = int(obj.get("port") or 0)
    target = obj.get("targetPort")
    return ServicePort(
        name=optional_str(obj.get("name")),
        protocol=str(obj.get("protocol") or "TCP"),
        port=port,
        target_port=target if isinstance(target, int | str) and target != "" else port,
        node_port=_optional_int(obj.get("nodePort")),
    )


def parse_service(obj: JsonObject) -> Service:
    """Read a Service object into a `Service` view."""
    spec = mapping(obj.get("spec"))
    cluster_ip = optional_str(spec.get("clusterIP"))
    return Service(
        meta=parse_meta(obj),
        type=str(spec.get("type") or "ClusterIP"),
        cluster_ip=cluster_ip,
        selector=mapping(spec.get("selector")),
        ports=tuple(parse_service_port(p) for p in objects(spec.get("ports"))),
        external_traffic_policy=optional_str(spec.get("externalTrafficPolicy")),
        internal_traffic_policy=optional_str(spec.get("internalTrafficPolicy")),
        session_affinity=str(spec.get("sessionAffinity") or "None"),
        publish_not_ready_addresses=spec.get("publishNotReadyAddresses") is True,
        health_check_node_port=_optional_int(spec.get("healthCheckNodePort")),
        external_name=optional_str(spec.get("externalName")),
        raw=obj,
    )


def _endpoint_port(obj: JsonObject) -> EndpointPort:
    return EndpointPort(
        name=optional_str(obj.get("name")),
        port=int(obj.get("port") or 0),
        protocol=str(obj.get("protocol") or "TCP"),
    )


def _address(obj: JsonObject) -> EndpointAddress:
    target = mapping(obj.get("targetRef"))
    return EndpointAddress(
        ip=str(obj.get("ip", "")),
        node_name=optional_str(obj.get("nodeName")),
        target_kind=optional_str(target.get("kind")),
        target_name=optional_str(target.get("name")),
    )


def parse_endpoints(obj: JsonObject) -> Endpoints:
    """Read an Endpoints object into an `Endpoints` view."""
    subsets = tuple(
        EndpointSubset(
            ready_addresses=tuple(_address(a) for a in objects(s.get("addresses"))),
            not_ready_addresses=tuple(_address(a) for a in objects(s.get("notReadyAddresses"))),
            ports=tuple(_endpoint_port(p) for p in objects(s.get("ports"))),
        )
        for s in objects(obj.get("subsets"))
    )
    return Endpoints(meta=parse_meta(obj), subsets=subsets, raw=obj)


def _condition(conditions: JsonObject, key: str) -> bool | None:
    value = conditions.get(key)
    return value if isinstance(value, bool) else None


def _slice_endpoint(obj: JsonObject) -> SliceEndpoint:
    conditions = mapping(obj.get("conditions"))
    addresses = obj.get("addresses")
    return SliceEndpoint(
        addresses=tuple(str(a) for a in addresses) if isinstance(addresses, list) else (),
        ready=_condition(conditions, "ready"),
        serving=_condition(conditions, "serving"),
        terminating=_condition(conditions, "terminating"),
        node_name=optional_str(obj.get("nodeName")),
        target_name=optional_str(mapping(obj.get("targetRef")).get("name")),
    )


def parse_endpoint_slice(obj: JsonObject) -> EndpointSlice:
    """Read an EndpointSlice object into an `EndpointSlice` view."""
    meta = parse_meta(obj)
    return EndpointSlice(
        meta=meta,
        service_name=optional_str(meta.labels.get(SERVICE_NAME_LABEL)),
        address_type=str(obj.get("addressType") or "IPv4"),
        endpoints=tuple(_slice_endpoint(e) for e in objects(obj.get("endpoints"))),
        ports=tuple(_endpoint_port(p) for p in objects(obj.get("ports"))),
        raw=obj,
    )
