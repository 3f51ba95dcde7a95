"""The conntrack cleanup's parameters: which stale entries to clean, or a full flush; how boldly."""

from __future__ import annotations

import ipaddress
from typing import Self

from pydantic import BaseModel, Field, field_validator, model_validator

from flows.conntrack.plan import Target


class CleanupParameters(BaseModel):
    """What an operator sets when starting a cleanup."""

    namespace: str | None = Field(
        default=None, title="Namespace", description="The Service's namespace."
    )
    service: str | None = Field(
        default=None,
        title="Service",
        description="Only this Service's stale entries (needs namespace).",
    )
    pod_ip: str | None = Field(
        default=None, title="Gone Pod IP", description="Only entries answered by this gone Pod IP."
    )
    full_flush: bool = Field(
        default=False,
        title="Full flush (conntrack -F)",
        description="conntrack -F on every node: breaks every NATed connection; always asks.",
    )
    dry_run: bool = Field(default=False, title="Dry run", description="Plan only; delete nothing.")
    auto_approve: bool = Field(
        default=False,
        title="Drill",
        description="A drill: approve automatically where the policy allows drills.",
    )
    approval_timeout_seconds: float | None = Field(
        default=None,
        gt=0,
        le=86400,
        title="Approval timeout (seconds)",
        description="How long to wait for approval (then reject); empty: the runbook's.",
    )

    @field_validator("namespace", "service", "pod_ip", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        # The Prefect UI's form sends an emptied text field as "".
        if isinstance(value, str) and not value.strip():
            return None
        return value.strip() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _one_target(self) -> Self:
        if self.service and not self.namespace:
            raise ValueError("service needs namespace: set namespace to the Service's namespace")
        if self.pod_ip is not None:
            try:
                # conntrack prints addresses in their canonical form: compare in that form.
                self.pod_ip = ipaddress.ip_address(self.pod_ip).compressed
            except ValueError as error:
                raise ValueError(f"pod_ip {self.pod_ip!r} is not an IP address") from error
            if self.service:
                raise ValueError("set pod_ip or service, not both")
        if self.full_flush and (self.service or self.pod_ip):
            raise ValueError("full_flush empties whole tables: leave service and pod_ip empty")
        return self

    @property
    def target(self) -> Target:
        """What to clean, for the plan."""
        return Target(self.namespace, self.service, self.pod_ip, self.full_flush)

    def describe(self) -> str:
        """The target in words."""
        if self.full_flush:
            return "full flush on every node"
        if self.pod_ip:
            return f"entries answered by Pod IP {self.pod_ip}"
        if self.service:
            return f"stale entries of Service {self.namespace}/{self.service}"
        scope = f" in {self.namespace}" if self.namespace else ""
        return f"stale UDP entries of every Service{scope}"
