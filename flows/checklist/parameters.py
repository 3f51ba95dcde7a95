"""The checklist flow's parameters: what to look at, and how boldly to act."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

DNS_LABEL_PATTERN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"

ObjectName = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=63, pattern=DNS_LABEL_PATTERN)
]
"""A namespace or Service name: an RFC 1123 label (lower case, digits, '-', at most 63)."""


class Scope(StrEnum):
    """How much of the cluster the alert concerns."""

    SERVICE = "service"
    NODE = "node"
    CLUSTER = "cluster"


class ChecklistParameters(BaseModel):
    """Parameters of the five-minute emergency checklist (shown as a form in the Prefect UI)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    scope: Scope = Field(
        description="service: one Service is failing; node: one node's kube-proxy; "
        "cluster: many Services at once (suspect kube-proxy, the CNI or nodes)",
    )
    namespace: ObjectName | None = Field(
        default=None, description="Namespace of the affected Service (required for scope service)"
    )
    service: ObjectName | None = Field(
        default=None, description="Name of the affected Service (required for scope service)"
    )
    instance: str | None = Field(
        default=None,
        min_length=1,
        description="Node name or address (host or host:port, e.g. the kube-proxy metrics "
        "target 10.0.0.5:10249) for scope node",
    )
    dry_run: bool = Field(
        default=False, description="Diagnose and plan, but change nothing in the cluster"
    )
    auto_approve: bool = Field(
        default=False,
        description="This run is a drill: approve automatically where the runbook allows "
        "drills to (approval.auto_approve_for_drills)",
    )
    kube_proxy_restart_parallelism: int = Field(
        default=1, ge=1, description="kube-proxy pods restarted at the same time (nodes per wave)"
    )
    kube_proxy_restart_budget_fraction: float = Field(
        default=0.2,
        gt=0,
        le=1,
        description="Most kube-proxy pods restarted per run, as a fraction of the nodes "
        "(rounded down, at least 1); the rest are reported as deferred",
    )
    app_pod_restart_budget_fraction: float = Field(
        default=0.5,
        gt=0,
        le=1,
        description="Most application pods restarted per run, as a fraction of the "
        "Service's pods (rounded down, at least 1)",
    )
    approval_timeout_seconds: float = Field(
        default=900, gt=0, description="How long to wait for a human; no answer means reject"
    )
    verify_timeout_seconds: float = Field(
        default=60, gt=0, description="How long verification waits for the Service to recover"
    )
    alert_fingerprint: str | None = Field(
        default=None, description="Alertmanager fingerprint of the alert (re-checks, report)"
    )
    alert_starts_at: datetime | None = Field(
        default=None, description="When the alert started firing (identifies the episode)"
    )
    alertname: str | None = Field(default=None, description="The alert's name (for the report)")

    @model_validator(mode="after")
    def _scope_has_its_target(self) -> Self:
        if self.scope is Scope.SERVICE and (self.namespace is None or self.service is None):
            missing = [
                name
                for name, value in (("namespace", self.namespace), ("service", self.service))
                if value is None
            ]
            raise ValueError(
                f"scope 'service' needs the Service's namespace and name; missing: "
                f"{', '.join(missing)}"
            )
        if self.scope is Scope.NODE and self.instance is None:
            raise ValueError("scope 'node' needs instance (the node's name or address)")
        if self.service is not None and self.namespace is None:
            raise ValueError(f"service {self.service!r} needs its namespace")
        return self

    @property
    def service_key(self) -> str | None:
        """``namespace/service`` when the parameters name a Service."""
        if self.namespace is None or self.service is None:
            return None
        return f"{self.namespace}/{self.service}"
