"""Node, Event and ConfigMap views: where pods run, what was said, node-agent config."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from integrations.kubernetes.views.meta import (
    JsonObject,
    ObjectMeta,
    mapping,
    objects,
    optional_str,
    parse_meta,
    parse_time,
)


@dataclass(frozen=True, slots=True)
class NodeAddress:
    """One of a node's addresses (``InternalIP``, ``Hostname``...)."""

    type: str
    address: str


@dataclass(frozen=True, slots=True)
class Node:
    """A node: whether it is Ready and how to reach it."""

    meta: ObjectMeta
    ready: bool
    unschedulable: bool
    addresses: tuple[NodeAddress, ...]
    raw: JsonObject = field(repr=False, compare=False)

    @property
    def internal_ip(self) -> str | None:
        """The first ``InternalIP`` address, if any."""
        return next((a.address for a in self.addresses if a.type == "InternalIP"), None)


@dataclass(frozen=True, slots=True)
class InvolvedObject:
    """The object an Event is about."""

    kind: str
    name: str
    namespace: str | None
    uid: str | None


@dataclass(frozen=True, slots=True)
class Event:
    """A core/v1 Event; ``last_timestamp`` falls back to ``eventTime`` for newer reporters."""

    meta: ObjectMeta
    involved_object: InvolvedObject
    reason: str
    message: str
    type: str
    count: int
    last_timestamp: datetime | None
    source_component: str | None
    raw: JsonObject = field(repr=False, compare=False)


@dataclass(frozen=True, slots=True)
class ConfigMap:
    """A ConfigMap's string data (e.g. kube-proxy's ``config.conf``)."""

    meta: ObjectMeta
    data: Mapping[str, str]
    raw: JsonObject = field(repr=False, compare=False)


def parse_config_map(obj: JsonObject) -> ConfigMap:
    """Read a ConfigMap object into a `ConfigMap` view."""
    return ConfigMap(meta=parse_meta(obj), data=mapping(obj.get("data")), raw=obj)


def parse_node(obj: JsonObject) -> Node:
    """Read a Node object into a `Node` view."""
    spec = mapping(obj.get("spec"))
    status = mapping(obj.get("status"))
    return Node(
        meta=parse_meta(obj),
        ready=any(
            c.get("type") == "Ready" and c.get("status") == "True"
            for c in objects(status.get("conditions"))
        ),
        unschedulable=spec.get("unschedulable") is True,
        addresses=tuple(
            NodeAddress(type=str(a.get("type", "")), address=str(a.get("address", "")))
            for a in objects(status.get("addresses"))
        ),
        raw=obj,
    )


def parse_event(obj: JsonObject) -> Event:
    """Read a core/v1 Event object into an `Event` view."""
    involved = mapping(obj.get("involvedObject"))
    series = mapping(obj.get("series"))
    count = obj.get("count") or series.get("count") or 1
    last = (
        parse_time(obj.get("lastTimestamp"))
        or parse_time(series.get("lastObservedTime"))
        or parse_time(obj.get("eventTime"))
        or parse_time(obj.get("firstTimestamp"))
    )
    return Event(
        meta=parse_meta(obj),
        involved_object=InvolvedObject(
            kind=str(involved.get("kind", "")),
            name=str(involved.get("name", "")),
            namespace=optional_str(involved.get("namespace")),
            uid=optional_str(involved.get("uid")),
        ),
        reason=str(obj.get("reason") or ""),
        message=str(obj.get("message") or ""),
        type=str(obj.get("type") or "Normal"),
        count=count if isinstance(count, int) else 1,
        last_timestamp=last,
        source_component=optional_str(mapping(obj.get("source")).get("component"))
        or optional_str(obj.get("reportingComponent")),
        raw=obj,
    )
