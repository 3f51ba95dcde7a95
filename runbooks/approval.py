"""Approval policy: which kinds of action a runbook's flow may take unattended, and who answers."""

from __future__ import annotations

import re
from collections.abc import Iterable
from enum import StrEnum
from typing import Annotated, Any, Self

from pydantic import AfterValidator, Field, WithJsonSchema, field_validator, model_validator

from runbooks.durations import parse_duration
from runbooks.fields import CatalogModel, Duration, schema_error


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


class FourEyes(StrEnum):
    """A second pair of eyes an action kind needs before it runs."""

    TWO_APPROVERS = "two_approvers"
    """Two different people approve; either one's rejection stops the run."""
    NOT_THE_STARTER = "not_the_starter"
    """Whoever started the run by hand may not approve it; someone else must."""


SAFE_ACTIONS = frozenset({ActionKind.DIAGNOSE})
"""Read-only actions: approved automatically unless a runbook says otherwise."""

ALWAYS_REQUIRED = frozenset({ActionKind.FLUSH_CONNTRACK})
"""Actions no runbook may set to `auto`: a full conntrack flush breaks every NATed connection."""

DEFAULT_TIMEOUT = "15m"
"""How long a request waits for a human when the runbook names no timeout."""

SLACK_USER_PATTERN = r"^[UW][A-Z0-9]{2,}$"
SLACK_GROUP_PATTERN = r"^S[A-Z0-9]{2,}$"


def _slack_id(pattern: str, *, what: str, example: str) -> AfterValidator:
    compiled = re.compile(pattern)

    def check(value: str) -> str:
        if not compiled.fullmatch(value):
            raise schema_error(
                f"{what} {value!r} is not a Slack ID",
                fix=f"write the ID Slack shows in the profile or group's menu, like {example!r}",
            )
        return value

    return AfterValidator(check)


SlackUserId = Annotated[
    str,
    _slack_id(SLACK_USER_PATTERN, what="Slack user", example="U0123ABCD"),
    WithJsonSchema({"type": "string", "pattern": SLACK_USER_PATTERN}),
]
SlackGroupId = Annotated[
    str,
    _slack_id(SLACK_GROUP_PATTERN, what="Slack user group", example="S0123ABCD"),
    WithJsonSchema({"type": "string", "pattern": SLACK_GROUP_PATTERN}),
]


class Approvers(CatalogModel):
    """Who may answer a runbook's approval requests in Slack: people, and user groups' members."""

    users: tuple[SlackUserId, ...] = Field(default=(), description="Slack user IDs (U...)")
    groups: tuple[SlackGroupId, ...] = Field(
        default=(),
        description="Slack user group IDs (S...): their members, as Slack lists them when a "
        "button is pressed (usergroups.users.list, cached for minutes)",
    )

    @model_validator(mode="after")
    def _names_someone(self) -> Self:
        if not self.users and not self.groups:
            raise schema_error(
                "approvers names nobody",
                fix="list users and/or groups, or remove approvers to use RUNBOOKS_SLACK_APPROVERS",
            )
        return self


class ApprovalPolicy(CatalogModel):
    """Which actions of the runbook's flow need a human's approval, whose, and how long to wait."""

    actions: dict[ActionKind, ApprovalMode] = Field(
        default_factory=dict,
        description="action kind -> auto|required; unlisted: auto for read-only, else required",
    )
    auto_approve_for_drills: bool = Field(
        default=False, description="approve every action automatically when the run is a drill"
    )
    approvers: Approvers | None = Field(
        default=None,
        description="who may answer in Slack; unset: the engine's RUNBOOKS_SLACK_APPROVERS",
    )
    timeout: Duration = Field(
        default=DEFAULT_TIMEOUT,
        description="how long a request waits for an answer; no answer by then rejects",
    )
    timeouts: dict[ActionKind, Duration] = Field(
        default_factory=dict,
        description="action kind -> its own timeout (a request for several kinds takes the "
        "shortest)",
    )
    four_eyes: dict[ActionKind, FourEyes] = Field(
        default_factory=dict,
        description="action kind -> two_approvers|not_the_starter: a second person must agree",
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

    def timeout_seconds(self, actions: Iterable[ActionKind]) -> int:
        """How long a request for ``actions`` waits: the shortest of their timeouts."""
        durations = [self.timeouts.get(action, self.timeout) for action in actions]
        return min((parse_duration(d) for d in durations), default=parse_duration(self.timeout))

    def four_eyes_for(self, actions: Iterable[ActionKind]) -> frozenset[FourEyes]:
        """Every four-eyes rule a request for ``actions`` must satisfy."""
        return frozenset(self.four_eyes[a] for a in actions if a in self.four_eyes)
