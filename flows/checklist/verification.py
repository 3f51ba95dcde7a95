"""The checklist's verification steps (minute 5): read-only checks that the Service recovered."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from flows.checklist.actions import BlastRadius, Phase
from runbooks.approval import ActionKind

READ_ONLY = BlastRadius((), "read-only")


@dataclass(frozen=True, slots=True, kw_only=True)
class VerifyServiceEndpoints:
    """Check that the Service has ready endpoints again."""

    kind: ClassVar[ActionKind] = ActionKind.DIAGNOSE
    phase: ClassVar[Phase] = Phase.VERIFY
    namespace: str
    service: str
    needs_approval: bool

    @property
    def key(self) -> str:
        """Stable id of the action within a plan."""
        return f"verify:{self.namespace}/{self.service}:endpoints"

    @property
    def description(self) -> str:
        """What the check does, for humans."""
        return f"Verify Service {self.namespace}/{self.service} has ready endpoints again"

    @property
    def blast_radius(self) -> BlastRadius:
        """Nothing: it only reads."""
        return READ_ONLY


@dataclass(frozen=True, slots=True, kw_only=True)
class VerifyKubeProxyReady:
    """Check that kube-proxy is Ready (and logs no errors) on the given nodes."""

    kind: ClassVar[ActionKind] = ActionKind.DIAGNOSE
    phase: ClassVar[Phase] = Phase.VERIFY
    nodes: tuple[str, ...]
    needs_approval: bool

    @property
    def key(self) -> str:
        """Stable id of the action within a plan."""
        return "verify:kube-proxy"

    @property
    def description(self) -> str:
        """What the check does, for humans."""
        return f"Verify kube-proxy is Ready without sync errors on {', '.join(self.nodes)}"

    @property
    def blast_radius(self) -> BlastRadius:
        """Nothing: it only reads."""
        return READ_ONLY


@dataclass(frozen=True, slots=True, kw_only=True)
class VerifyAlertResolved:
    """Check with Alertmanager that the alert that started the run no longer fires."""

    kind: ClassVar[ActionKind] = ActionKind.DIAGNOSE
    phase: ClassVar[Phase] = Phase.VERIFY
    alertname: str
    fingerprint: str
    needs_approval: bool

    @property
    def key(self) -> str:
        """Stable id of the action within a plan."""
        return f"verify:alert/{self.fingerprint}"

    @property
    def description(self) -> str:
        """What the check does, for humans."""
        return f"Verify alert {self.alertname} ({self.fingerprint}) has stopped firing"

    @property
    def blast_radius(self) -> BlastRadius:
        """Nothing: it only reads."""
        return READ_ONLY


@dataclass(frozen=True, slots=True, kw_only=True)
class VerifyTargetPort:
    """Check that a fixed targetPort names a port every selected pod's containers declare.

    Ready endpoints prove nothing here: a numeric targetPort nobody listens on is published
    as ready all the same.
    """

    kind: ClassVar[ActionKind] = ActionKind.DIAGNOSE
    phase: ClassVar[Phase] = Phase.VERIFY
    namespace: str
    service: str
    port: int
    target_port: int | str
    needs_approval: bool

    @property
    def key(self) -> str:
        """Stable id of the action within a plan."""
        return f"verify:{self.namespace}/{self.service}:port/{self.port}:target-port"

    @property
    def description(self) -> str:
        """What the check does, for humans."""
        return (
            f"Verify targetPort {self.target_port!r} of port {self.port} of Service "
            f"{self.namespace}/{self.service} names a port its pods declare"
        )

    @property
    def blast_radius(self) -> BlastRadius:
        """Nothing: it only reads."""
        return READ_ONLY


@dataclass(frozen=True, slots=True, kw_only=True)
class VerifyServiceConnectivity:
    """The handbook's connectivity step: a TCP connect to ClusterIP:port from a kube-proxy pod.

    kube-proxy runs in the node's network namespace, so the connect goes through the node's
    Service rules to a backend, as a client on that node would. Where the cluster refuses the
    exec, or the image has no tool to connect with, the check is reported unavailable.
    """

    kind: ClassVar[ActionKind] = ActionKind.DIAGNOSE
    phase: ClassVar[Phase] = Phase.VERIFY
    namespace: str
    service: str
    port: int
    needs_approval: bool

    @property
    def key(self) -> str:
        """Stable id of the action within a plan."""
        return f"verify:{self.namespace}/{self.service}:port/{self.port}:connect"

    @property
    def description(self) -> str:
        """What the check does, for humans."""
        return (
            f"Verify a TCP connect to Service {self.namespace}/{self.service} port {self.port} "
            "(its ClusterIP) from a kube-proxy pod succeeds"
        )

    @property
    def blast_radius(self) -> BlastRadius:
        """One connection opened and closed; nothing changes."""
        return BlastRadius((), "one TCP connection from a kube-proxy pod (exec), no change")


VerificationStep = (
    VerifyServiceEndpoints
    | VerifyTargetPort
    | VerifyServiceConnectivity
    | VerifyKubeProxyReady
    | VerifyAlertResolved
)
"""Every kind of verification step."""
