"""Engine settings, read once from the environment (prefix ``RUNBOOKS_``), over the flows' own."""

from __future__ import annotations

from pathlib import Path
from typing import Literal, Self

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import SettingsConfigDict

from flows.settings import FlowSettings

#: How the engine writes its log: ``auto`` is text on a terminal and JSON otherwise.
LogFormat = Literal["auto", "text", "json"]

#: Seconds a fresh Prefect server may take to answer: 10-20 s idle, 90-100 s seen on a busy node.
DEFAULT_PREFECT_START_TIMEOUT = 180.0


class EngineSettings(FlowSettings):
    """Everything the engine is configured with; each field is ``RUNBOOKS_<NAME>`` in the env.

    The defaults run the whole engine on one machine with nothing configured: SQLite for Prefect and
    the simulated cluster when no Kubernetes cluster is reachable.
    """

    model_config = SettingsConfigDict(env_prefix="RUNBOOKS_", extra="ignore")

    state_dir: Path = Field(
        default=Path(".runbooks"),
        description="Where the engine keeps its local state (SQLite database, kubeconfigs, logs).",
    )
    simulate: bool | None = Field(
        default=None,
        description=(
            "Force (true) or forbid (false) the simulated cluster; unset starts it only when no "
            "cluster is configured."
        ),
    )
    sim_port: int = Field(
        default=6443,
        ge=0,
        le=65535,
        description=(
            "The simulated cluster's API port: the HTTPS port its kubeconfigs name (its "
            "plain-HTTP fault API takes a free port)."
        ),
    )
    sim_nodes: int = Field(
        default=10,
        ge=1,
        le=10_000,
        description="Simulated cluster's nodes (10: the 20% restart budget covers two nodes).",
    )
    sim_scenario: str = Field(default="healthy", description="Simulated cluster's scenario.")
    prefect_port: int = Field(
        default=4200,
        ge=0,
        le=65535,
        description="Port of the local Prefect server and UI (when PREFECT_API_URL is unset).",
    )
    prefect_start_timeout_seconds: float = Field(
        default=DEFAULT_PREFECT_START_TIMEOUT,
        gt=0,
        description=(
            "How long a local Prefect server may take to answer at start-up (90-100 s has been "
            "seen on a busy node)."
        ),
    )
    allow_embedded_prefect: bool = Field(
        default=False,
        description=(
            "Inside a Kubernetes pod without PREFECT_API_URL, run a local Prefect on SQLite "
            "anyway (lost with the pod: for throwaway installs only)."
        ),
    )
    log_format: LogFormat = Field(
        default="auto",
        description="Log lines as text (for people) or JSON (for collectors); auto: text on a "
        "terminal, JSON otherwise.",
    )
    listen_host: str = Field(default="127.0.0.1", description="Receiver's listen address.")
    listen_port: int = Field(default=8080, ge=0, le=65535, description="Receiver's port.")
    webhook_token: SecretStr | None = Field(
        default=None,
        description=(
            "Bearer token Alertmanager must send; unset: `runbooks up` generates one into "
            "<state_dir>/webhook-token."
        ),
    )
    webhook_basic_user: str | None = Field(
        default=None, description="Basic-auth user Alertmanager may send instead of a token."
    )
    webhook_basic_password: SecretStr | None = Field(
        default=None, description="Basic-auth password for webhook_basic_user."
    )
    slack_approvers: str = Field(
        default="",
        description=(
            "Slack user IDs (U...) and user group IDs (S...) who may answer requests whose "
            "runbook names no approvers, comma-separated; empty: anyone who can see the "
            "approvals channel's messages (logged at start-up)."
        ),
    )
    run_heartbeat_seconds: int = Field(
        default=30,
        ge=30,
        description="Seconds between a running flow's heartbeats (Prefect's minimum is 30).",
    )
    unresponsive_after_seconds: int = Field(
        default=120,
        description=(
            "A Pending or Running run silent this long (its engine died) is marked Crashed, "
            "freeing its target; at least twice run_heartbeat_seconds."
        ),
    )

    @field_validator("webhook_token", mode="before")
    @classmethod
    def _without_surrounding_whitespace(cls, token: object) -> object:
        # A token file made with `openssl rand -hex 32 > file` ends in a newline that Alertmanager
        # does not send: compared byte for byte, every alert would be refused.
        return token.strip() if isinstance(token, str) else token

    @field_validator("log_format", mode="before")
    @classmethod
    def _any_case(cls, log_format: object) -> object:
        # `JSON` or `Text ` in a manifest mean the same as the lower-case values.
        return log_format.strip().lower() if isinstance(log_format, str) else log_format

    @model_validator(mode="after")
    def _silence_outlasts_heartbeats(self) -> Self:
        if self.unresponsive_after_seconds < 2 * self.run_heartbeat_seconds:
            raise ValueError(
                f"unresponsive_after_seconds ({self.unresponsive_after_seconds}) must be at "
                f"least twice run_heartbeat_seconds ({self.run_heartbeat_seconds}), or live "
                "runs are marked Crashed between two heartbeats: raise "
                "RUNBOOKS_UNRESPONSIVE_AFTER_SECONDS or lower RUNBOOKS_RUN_HEARTBEAT_SECONDS"
            )
        return self

    @property
    def slack_approver_ids(self) -> frozenset[str]:
        """The Slack users and user groups who may answer (empty: anyone who sees the message)."""
        return frozenset(part.strip() for part in self.slack_approvers.split(",") if part.strip())

    @property
    def backup_folder(self) -> Path:
        """Where the configuration backup flow writes: ``backup_dir``, else under ``state_dir``."""
        return self.backup_dir or self.state_dir / "backups"

    @property
    def webhook_token_file(self) -> Path:
        """Where a generated webhook token is kept."""
        return self.state_dir / "webhook-token"


def settings_error_message(error: ValidationError) -> str:
    """One line per bad setting, each named by its environment variable, with the fix."""
    lines = []
    for problem in error.errors():
        message = problem["msg"].removeprefix("Value error, ")
        if problem["loc"]:
            variable = f"RUNBOOKS_{str(problem['loc'][0]).upper()}"
            lines.append(f"{variable}: {message} (got {problem.get('input')!r})")
        else:
            lines.append(message)
    return "\n".join(lines)
