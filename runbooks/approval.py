"""Approval policy: which kinds of action a runbook's flow may take unattended."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import Field, field_validator

from runbooks.fields import CatalogModel, schema_error


class ActionKind(StrEnum):
    """A kind of action a runbook's flow may take; approval is decided per kind."""

    DIAGNOSE = "diagnose"
    RESTART_KUBE_PROXY_POD = "restart_kube_proxy_pod"
    ROLLBACK_KUBE_PROXY = "rollback_kube_proxy"
    DELETE_STALE_CONNTRACK = "delete_stale_conntrack"
    FLUSH_CONNTRACK = "flush_conntrack"
    CREATE_EMERGENCY_NODEPORT = "create_emergency_nodeport"
    RESTART_APP_POD = "restart_app_pod"
    PATCH_SERVICE = "patch_service"


class ApprovalMode(StrEnum):
    """Whether an action runs on its own or waits for a human."""

    AUTO = "auto"
    REQUIRED = "required"


SAFE_ACTIONS = frozenset({ActionKind.DIAGNOSE})
"""Read-only actions: approved automatically unless a runbook says otherwise."""

ALWAYS_REQUIRED = frozenset({ActionKind.FLUSH_CONNTRACK})
"""Actions no runbook may set to `auto`: a full conntrack flush breaks every NATed connection."""


class ApprovalPolicy(CatalogModel):
    """Which actions of the runbook's flow need a human's approval."""

    actions: dict[ActionKind, ApprovalMode] = Field(
        default_factory=dict,
        description="action kind -> auto|required; unlisted: auto for read-only, else required",
    )
    auto_approve_for_drills: bool = Field(
        default=False, description="approve every action automatically when the run is a drill"
    )

    @field_validator("actions")
    @classmethod
    def _keep_flush_guarded(cls, actions: dict[ActionKind, ApprovalMode]) -> Any:
        for action in ALWAYS_REQUIRED:
            if actions.get(action) is ApprovalMode.AUTO:
                raise schema_error(
                    f"{action} cannot be auto: it breaks every established NATed connection",
                    fix=f"set {action}: required, or remove it",
                    at=(action.value,),
                )
        return actions

    def mode_for(self, action: ActionKind, *, drill: bool = False) -> ApprovalMode:
        """Return whether `action` needs approval in this run (a full flush always does)."""
        if action in ALWAYS_REQUIRED:
            return ApprovalMode.REQUIRED
        if drill and self.auto_approve_for_drills:
            return ApprovalMode.AUTO
        default = ApprovalMode.AUTO if action in SAFE_ACTIONS else ApprovalMode.REQUIRED
        return self.actions.get(action, default)
