"""Engine settings, read once from the environment (prefix ``RUNBOOKS_``)."""

from __future__ import annotations

from pathlib import Path
from typing import Self

from pydantic import Field, SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from integrations.slack import SlackCredentials
from integrations.slack.credentials import SLACK_API_URL


class EngineSettings(BaseSettings):
    """Everything the engine is configured with; each field is ``RUNBOOKS_<NAME>`` in the env.

    The defaults run the whole engine on one machine with nothing configured: SQLite for Prefect and
    the simulated cluster when no Kubernetes cluster is reachable.
    """

    model_config = SettingsConfigDict(env_prefix="RUNBOOKS_", extra="ignore")

    state_dir: Path = Field(
        default=Path(".runbooks"),
        description="Where the engine keeps its local state (SQLite database, kubeconfigs, logs).",
    )
    kubeconfig: Path | None = Field(
        default=None,
        description="Kubeconfig to use; unset: in-cluster, then $KUBECONFIG, ~/.kube/config.",
    )
    kube_context: str | None = Field(default=None, description="Kubeconfig context to use.")
    kube_url: str | None = Field(
        default=None, description="Explicit apiserver URL (used when no kubeconfig is found)."
    )
    kube_token: SecretStr | None = Field(
        default=None, description="Bearer token for the explicit apiserver URL."
    )
    simulate: bool | None = Field(
        default=None,
        description=(
            "Force (true) or forbid (false) the simulated cluster; unset starts it only when no "
            "cluster is configured."
        ),
    )
    sim_port: int = Field(default=6443, ge=0, le=65535, description="Simulated cluster's port.")
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
    alertmanager_url: str | None = Field(
        default=None,
        description="Alertmanager's URL, so flows can re-check that their alert still fires.",
    )

    slack_bot_token: SecretStr | None = Field(
        default=None, description="Slack app's bot token (xoxb-...): approvals go to Slack."
    )
    slack_signing_secret: SecretStr | None = Field(
        default=None, description="Slack app's signing secret: verifies button callbacks."
    )
    slack_channel: str | None = Field(
        default=None, description="Channel ID (C...) approval requests are posted to."
    )
    slack_api_url: str = Field(default=SLACK_API_URL, description="Slack's Web API base URL.")
    slack_approvers: str = Field(
        default="",
        description="Slack user IDs allowed to answer, comma-separated; empty: the channel.",
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

    @model_validator(mode="after")
    def _slack_complete(self) -> Self:
        given = {
            "RUNBOOKS_SLACK_BOT_TOKEN": self.slack_bot_token,
            "RUNBOOKS_SLACK_SIGNING_SECRET": self.slack_signing_secret,
            "RUNBOOKS_SLACK_CHANNEL": self.slack_channel,
        }
        missing = [name for name, value in given.items() if not value]
        if 0 < len(missing) < len(given):
            raise ValueError(
                f"Slack approvals need all of {', '.join(given)}: set {', '.join(missing)} "
                "too, or unset the others to answer approvals in the Prefect UI only"
            )
        return self

    def slack_credentials(self) -> SlackCredentials | None:
        """The Slack app's credentials, when Slack approvals are configured."""
        if not (self.slack_bot_token and self.slack_signing_secret and self.slack_channel):
            return None
        return SlackCredentials(
            bot_token=self.slack_bot_token,
            signing_secret=self.slack_signing_secret,
            channel=self.slack_channel,
            api_url=self.slack_api_url,
        )

    @property
    def slack_approver_ids(self) -> frozenset[str]:
        """The Slack users allowed to answer (empty: anyone in the channel)."""
        return frozenset(part.strip() for part in self.slack_approvers.split(",") if part.strip())

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
