"""The Pod view: what flows read about a pod (placement, phase, readiness, restarts)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from integrations.kubernetes.views.meta import (
    EMPTY,
    JsonObject,
    ObjectMeta,
    mapping,
    objects,
    optional_str,
    parse_meta,
)


@dataclass(frozen=True, slots=True)
class ContainerStatus:
    """One container's status: readiness, restarts and why it is not running."""

    name: str
    ready: bool
    restart_count: int
    image: str
    waiting_reason: str | None
    terminated_reason: str | None
    last_terminated_reason: str | None


@dataclass(frozen=True, slots=True)
class ContainerPort:
    """A port a container declares (for resolving a Service's named ``targetPort``)."""

    container: str
    name: str | None
    container_port: int
    protocol: str


@dataclass(frozen=True, slots=True)
class Pod:
    """A Pod as flows see it; ``raw`` keeps the whole object."""

    meta: ObjectMeta
    node_name: str | None
    phase: str
    pod_ip: str | None
    host_ip: str | None
    ready: bool
    container_statuses: tuple[ContainerStatus, ...]
    raw: JsonObject = field(repr=False, compare=False)

    @property
    def restart_count(self) -> int:
        """Restarts summed over the pod's containers."""
        return sum(status.restart_count for status in self.container_statuses)

    @property
    def unschedulable(self) -> str | None:
        """Why the scheduler cannot place the pod (its ``PodScheduled`` condition's message,
        e.g. ``0/5 nodes are available: 5 Insufficient cpu.``); None once placed or pending."""
        status = mapping(self.raw.get("status"))
        for condition in objects(status.get("conditions")):
            if condition.get("type") != "PodScheduled" or condition.get("status") != "False":
                continue
            if condition.get("reason") == "Unschedulable":
                return optional_str(condition.get("message")) or "Unschedulable"
        return None

    @property
    def container_ports(self) -> tuple[ContainerPort, ...]:
        """The ports the pod's containers declare (read from ``raw`` on each access)."""
        spec = mapping(self.raw.get("spec"))
        return tuple(
            ContainerPort(
                container=str(container.get("name", "")),
                name=optional_str(port.get("name")),
                container_port=int(port.get("containerPort") or 0),
                protocol=str(port.get("protocol") or "TCP"),
            )
            for container in objects(spec.get("containers"))
            for port in objects(container.get("ports"))
        )


def _state_reason(state: Any, key: str) -> str | None:
    if type(state) is not dict:
        return None
    detail = state.get(key)
    return (detail.get("reason") or None) if type(detail) is dict else None


def parse_container_status(obj: JsonObject) -> ContainerStatus:
    """Read one entry of ``status.containerStatuses``."""
    state = obj.get("state")
    return ContainerStatus(
        name=obj.get("name") or "",
        ready=obj.get("ready") is True,
        restart_count=obj.get("restartCount") or 0,
        image=obj.get("image") or "",
        waiting_reason=_state_reason(state, "waiting"),
        terminated_reason=_state_reason(state, "terminated"),
        last_terminated_reason=_state_reason(obj.get("lastState"), "terminated"),
    )


def _is_ready(conditions: Any) -> bool:
    if type(conditions) is not list:
        return False
    for condition in conditions:
        if type(condition) is dict and condition.get("type") == "Ready":
            return condition.get("status") == "True"
    return False


def parse_pod(obj: JsonObject) -> Pod:
    """Read a Pod object into a `Pod` view."""
    # Hot path (5,000 kube-proxy pods per list): lookups are inlined rather than helper calls.
    spec = obj.get("spec")
    status = obj.get("status")
    if type(spec) is not dict:
        spec = EMPTY
    if type(status) is not dict:
        status = EMPTY
    statuses = status.get("containerStatuses")
    return Pod(
        meta=parse_meta(obj),
        node_name=spec.get("nodeName") or None,
        phase=status.get("phase") or "Unknown",
        pod_ip=status.get("podIP") or None,
        host_ip=status.get("hostIP") or None,
        ready=_is_ready(status.get("conditions")),
        container_statuses=tuple([parse_container_status(s) for s in statuses if type(s) is dict])
        if type(statuses) is list
        else (),
        raw=obj,
    )
