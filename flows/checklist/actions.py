"""The checklist's actions: one frozen type per kind, each saying what it touches and why."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, ClassVar

from flows.checklist.observation import (
    EMERGENCY_LABEL,
    ServicePortState,
    emergency_service_name,
)
from flows.checklist.proposals import render_labels
from integrations.kubernetes.bodies import JsonPatch, JsonPatchOperation
from runbooks.approval import ActionKind

KUBE_SYSTEM = "kube-system"


class Phase(StrEnum):
    """The checklist's phases, in order, each with its minute budget."""

    SCOPE = "scope"
    MITIGATE = "mitigate"
    FIX = "fix"
    VERIFY = "verify"

    @property
    def budget_seconds(self) -> int:
        """How long the phase may take: 1, 2, 1 and 1 minutes (five in all)."""
        return PHASE_BUDGET_SECONDS[self]


PHASE_BUDGET_SECONDS = {Phase.SCOPE: 60, Phase.MITIGATE: 120, Phase.FIX: 60, Phase.VERIFY: 60}
PHASE_ORDER = tuple(Phase)


@dataclass(frozen=True, slots=True)
class ObjectRef:
    """A Kubernetes object an action touches."""

    kind: str
    namespace: str | None
    name: str

    def __str__(self) -> str:
        where = f"{self.namespace}/" if self.namespace else ""
        return f"{self.kind} {where}{self.name}"


@dataclass(frozen=True, slots=True)
class BlastRadius:
    """What an action touches, and what its side effect is while it runs."""

    objects: tuple[ObjectRef, ...]
    effect: str

    def __str__(self) -> str:
        names = ", ".join(str(o) for o in self.objects) or "nothing"
        return f"{names} ({self.effect})"


@dataclass(frozen=True, slots=True, kw_only=True)
class RestartKubeProxyPod:
    """Delete one unhealthy kube-proxy pod; its DaemonSet recreates it on the same node."""

    kind: ClassVar[ActionKind] = ActionKind.RESTART_KUBE_PROXY_POD
    phase: ClassVar[Phase] = Phase.MITIGATE
    pod: str
    uid: str
    node: str
    wave: int
    needs_approval: bool

    @property
    def key(self) -> str:
        """Stable id of the action within a plan."""
        return f"{self.kind}:{self.node}"

    @property
    def description(self) -> str:
        """What the action does, for humans."""
        return (
            f"Restart kube-proxy on node {self.node} (wave {self.wave + 1}): delete pod "
            f"{KUBE_SYSTEM}/{self.pod} and wait until its replacement is Ready"
        )

    @property
    def blast_radius(self) -> BlastRadius:
        """The one pod; Services on that node are not reprogrammed until it is back."""
        return BlastRadius(
            (ObjectRef("Pod", KUBE_SYSTEM, self.pod),),
            f"rule updates on node {self.node} pause until the new pod is Ready",
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class CreateEmergencyNodePort:
    """Create ``<svc>-emergency``: a NodePort Service with the same selector and ports."""

    kind: ClassVar[ActionKind] = ActionKind.CREATE_EMERGENCY_NODEPORT
    phase: ClassVar[Phase] = Phase.MITIGATE
    namespace: str
    service: str
    selector: Mapping[str, str]
    ports: tuple[ServicePortState, ...]
    needs_approval: bool

    @property
    def name(self) -> str:
        """The emergency Service's name."""
        return emergency_service_name(self.service)

    @property
    def key(self) -> str:
        """Stable id of the action within a plan."""
        return f"{self.kind}:{self.namespace}/{self.service}"

    @property
    def description(self) -> str:
        """What the action does, for humans."""
        return (
            f"Open fallback access: create NodePort Service {self.namespace}/{self.name} "
            f"(selector {render_labels(self.selector)}, same ports as {self.service})"
        )

    @property
    def blast_radius(self) -> BlastRadius:
        """A new Service; every node opens a port for it."""
        return BlastRadius(
            (ObjectRef("Service", self.namespace, self.name),),
            "new object; a port in 30000-32767 opens on every node",
        )

    def manifest(self) -> dict[str, Any]:
        """The Service to create (node ports are left to the API server to allocate)."""
        ports = [
            {
                **({"name": p.name} if p.name else {}),
                "protocol": p.protocol,
                "port": p.port,
                "targetPort": p.target_port,
            }
            for p in self.ports
        ]
        return {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {
                "name": self.name,
                "namespace": self.namespace,
                "labels": {EMERGENCY_LABEL: "true"},
                "annotations": {"service-runbooks.io/emergency-for": self.service},
            },
            "spec": {"type": "NodePort", "selector": dict(self.selector), "ports": ports},
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class RestartAppPod:
    """Delete a not-Ready application pod so that its controller recreates it."""

    kind: ClassVar[ActionKind] = ActionKind.RESTART_APP_POD
    phase: ClassVar[Phase] = Phase.MITIGATE
    namespace: str
    pod: str
    uid: str
    owner: str
    needs_approval: bool

    @property
    def key(self) -> str:
        """Stable id of the action within a plan."""
        return f"{self.kind}:{self.namespace}/{self.pod}"

    @property
    def description(self) -> str:
        """What the action does, for humans."""
        return f"Restart pod {self.namespace}/{self.pod}: delete it; {self.owner} recreates it"

    @property
    def blast_radius(self) -> BlastRadius:
        """The one pod, which serves nothing now anyway."""
        return BlastRadius(
            (ObjectRef("Pod", self.namespace, self.pod),), "the pod is not Ready, so serves nothing"
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class PatchServiceSelector:
    """Replace a Service's selector by the one its pods nearly match."""

    kind: ClassVar[ActionKind] = ActionKind.PATCH_SERVICE
    phase: ClassVar[Phase] = Phase.FIX
    namespace: str
    service: str
    before: Mapping[str, str]
    after: Mapping[str, str]
    needs_approval: bool

    @property
    def key(self) -> str:
        """Stable id of the action within a plan."""
        return f"{self.kind}:{self.namespace}/{self.service}:selector"

    @property
    def description(self) -> str:
        """What the action does, for humans."""
        return (
            f"Fix the selector of Service {self.namespace}/{self.service}: "
            f"{render_labels(self.before)} -> {render_labels(self.after)}"
        )

    @property
    def blast_radius(self) -> BlastRadius:
        """The Service; its endpoints change to the newly selected pods."""
        return BlastRadius(
            (ObjectRef("Service", self.namespace, self.service),),
            "its endpoints become the newly selected pods",
        )

    def diff(self) -> tuple[str, ...]:
        """The change as diff lines under ``spec.selector``."""
        before, after = self.before, self.after
        removed = [f"-   {k}: {v}" for k, v in sorted(before.items()) if after.get(k) != v]
        added = [f"+   {k}: {v}" for k, v in sorted(after.items()) if before.get(k) != v]
        return ("  spec.selector:", *removed, *added)

    def patch(self) -> JsonPatch:
        """A JSON patch that fails if the selector changed since it was observed."""
        return JsonPatch(
            (
                JsonPatchOperation("test", "/spec/selector", dict(self.before)),
                JsonPatchOperation("replace", "/spec/selector", dict(self.after)),
            )
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class PatchServiceTargetPort:
    """Point one Service port's targetPort at the container port its pods expose."""

    kind: ClassVar[ActionKind] = ActionKind.PATCH_SERVICE
    phase: ClassVar[Phase] = Phase.FIX
    namespace: str
    service: str
    index: int
    port: int
    before: int | str
    after: int | str
    needs_approval: bool

    @property
    def key(self) -> str:
        """Stable id of the action within a plan."""
        return f"{self.kind}:{self.namespace}/{self.service}:port/{self.port}"

    @property
    def description(self) -> str:
        """What the action does, for humans."""
        return (
            f"Fix targetPort of port {self.port} of Service {self.namespace}/{self.service}: "
            f"{self.before!r} -> {self.after!r}"
        )

    @property
    def blast_radius(self) -> BlastRadius:
        """The Service; its endpoints' ports change."""
        return BlastRadius(
            (ObjectRef("Service", self.namespace, self.service),),
            f"traffic to port {self.port} goes to the new target port",
        )

    def diff(self) -> tuple[str, ...]:
        """The change as diff lines under ``spec.ports``."""
        return (
            f"  spec.ports[{self.index}] (port {self.port}):",
            f"-   targetPort: {self.before}",
            f"+   targetPort: {self.after}",
        )

    def patch(self) -> JsonPatch:
        """A JSON patch that fails if the port changed since it was observed."""
        path = f"/spec/ports/{self.index}"
        return JsonPatch(
            (
                JsonPatchOperation("test", f"{path}/port", self.port),
                JsonPatchOperation("test", f"{path}/targetPort", self.before),
                JsonPatchOperation("replace", f"{path}/targetPort", self.after),
            )
        )
