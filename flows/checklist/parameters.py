"""The checklist flow's parameters: what to look at, and how boldly to act."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Self

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


def _needs(scope: str, *fields: str) -> dict[str, Any]:
    """``scope`` requires ``fields``, each a string (a form sends an empty field as null)."""
    return {
        "if": {"properties": {"scope": {"const": scope}}, "required": ["scope"]},
        "then": {
            "required": list(fields),
            "properties": {field: {"type": "string"} for field in fields},
        },
    }


SCOPE_TARGETS: dict[str, Any] = {
    "allOf": [
        _needs(Scope.SERVICE, "namespace", "service"),
        _needs(Scope.NODE, "instance"),
        {
            "if": {"properties": {"service": {"type": "string"}}, "required": ["service"]},
            "then": {"required": ["namespace"], "properties": {"namespace": {"type": "string"}}},
        },
    ]
}
"""The combinations `_scope_has_its_target` refuses, as JSON Schema, so that a run is refused
when it is created (the engine's parameter check, Prefect's server behind the UI form), not
only failed once it runs."""


class ChecklistParameters(BaseModel):
    """Parameters of the five-minute emergency checklist (shown as a form in the Prefect UI)."""

    model_config = ConfigDict(frozen=True, extra="forbid", json_schema_extra=SCOPE_TARGETS)

    scope: Scope = Field(
        title="Scope",
        description="service: one Service is failing; node: one node's kube-proxy; "
        "cluster: many Services at once (suspect kube-proxy, the CNI or nodes)",
    )
    namespace: ObjectName | None = Field(
        default=None,
        title="Namespace",
        description="Namespace of the affected Service (required for scope service)",
    )
    service: ObjectName | None = Field(
        default=None,
        title="Service",
        description="Name of the affected Service (required for scope service)",
    )
    instance: str | None = Field(
        default=None,
        min_length=1,
        title="Node",
        description="Node name or address (host or host:port, e.g. the kube-proxy metrics "
        "target 10.0.0.5:10249) for scope node",
    )
    dry_run: bool = Field(
        default=False,
        title="Dry run",
        description="Diagnose and plan, but change nothing in the cluster",
    )
    auto_approve: bool = Field(
        default=False,
        title="Drill",
        description="This run is a drill: approve automatically where the runbook allows "
        "drills to (approval.auto_approve_for_drills)",
    )
    kube_proxy_restart_parallelism: int = Field(
        default=1,
        ge=1,
        title="kube-proxy restarts at a time",
        description="kube-proxy pods restarted at the same time (nodes per wave)",
    )
    kube_proxy_restart_budget_fraction: float = Field(
        default=0.2,
        gt=0,
        le=1,
        title="kube-proxy restart budget (fraction of nodes)",
        description="Most kube-proxy pods restarted per run, as a fraction of the nodes "
        "(rounded down, at least 1); the rest are reported as deferred",
    )
    kube_proxy_restart_hourly_budget_fraction: float = Field(
        default=0.6,
        gt=0,
        le=1,
        title="kube-proxy restart budget per hour (fraction of nodes)",
        description="Most kube-proxy pods a run and its follow-up runs restart within an hour, "
        "as a fraction of the nodes (rounded down, at least 1): a run that defers nodes "
        "starts a follow-up for them once its own restarts are verified, until this is spent",
    )
    app_pod_restart_budget_fraction: float = Field(
        default=0.5,
        gt=0,
        le=1,
        title="App pod restart budget (fraction of pods)",
        description="Most application pods restarted per run, as a fraction of the "
        "Service's pods (rounded down, at least 1)",
    )
    approval_timeout_seconds: float | None = Field(
        default=None,
        gt=0,
        title="Approval timeout (seconds)",
        description="How long to wait for a human; no answer means reject. Empty: the "
        "runbook's (approval.timeout)",
    )
    verify_timeout_seconds: float = Field(
        default=60,
        gt=0,
        title="Verification timeout (seconds)",
        description="How long verification waits for the Service to recover",
    )
    # Filled by the alert webhook: titled so a person starting a run by hand leaves them empty.
    alert_fingerprint: str | None = Field(
        default=None,
        title="Started by an alert: fingerprint",
        description="Set by the alert webhook; leave empty when starting by hand "
        "(Alertmanager's fingerprint, for re-checks and the report)",
    )
    alert_starts_at: datetime | None = Field(
        default=None,
        title="Started by an alert: startsAt",
        description="Set by the alert webhook; leave empty when starting by hand "
        "(when the alert started firing: identifies the episode)",
    )
    alertname: str | None = Field(
        default=None,
        title="Started by an alert: alert name",
        description="Set by the alert webhook; leave empty when starting by hand (the report)",
    )
    # Filled by the checklist when it starts a follow-up run: left empty by hand.
    follow_up_of: str | None = Field(
        default=None,
        title="Follow-up of run",
        description="Set by the checklist; leave empty when starting by hand (the run whose "
        "deferred kube-proxy restarts this run continues)",
    )
    restarted_this_hour: int = Field(
        default=0,
        ge=0,
        title="Follow-up: kube-proxy restarts already made this hour",
        description="Set by the checklist; leave at 0 when starting by hand (restarts the "
        "runs before this follow-up made since the hour began)",
    )
    hour_started_at: datetime | None = Field(
        default=None,
        title="Follow-up: when the hour began",
        description="Set by the checklist; leave empty when starting by hand (when the first "
        "run of the follow-ups' hour started)",
    )

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
