"""The ``RUNBOOKS_*`` settings flows act with; the engine's settings extend them (one reader).

One reader and one set of rules for the variables both sides use (the cluster, Alertmanager,
Slack), so a flow under a plain Prefect worker and the engine can never disagree about them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Self

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from integrations.kubernetes import KubeConnection
from integrations.slack import SlackCredentials
from integrations.slack.credentials import SLACK_API_URL


class FlowSettings(BaseSettings):
    """What flows are configured with; each field is ``RUNBOOKS_<NAME>`` in the environment."""

    model_config = SettingsConfigDict(env_prefix="RUNBOOKS_", extra="ignore")

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
    backup_dir: Path | None = Field(
        default=None,
        description=(
            "Where the configuration backup flow writes; unset: <state_dir>/backups under the "
            "engine, and the flow refuses to run under a plain worker."
        ),
    )
    retention_days: int = Field(
        default=30,
        description=(
            "Days the retention flow keeps finished runs of the engine's deployments (their "
            "logs and artifacts) and alert-resolution records; at least 1."
        ),
    )
    retention_keep_reports: bool = Field(
        default=True,
        description=(
            "Keep the report of each run the retention flow deletes (a few kilobytes per run, "
            "forever); false: reports go with their runs and the database stops growing."
        ),
    )

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

    @model_validator(mode="after")
    def _retention_at_least_a_day(self) -> Self:
        # A model-level error carries no field location, so the message names the variable
        # itself, under the engine (which names fields' variables) and a plain worker alike.
        if self.retention_days < 1:
            raise ValueError(
                "RUNBOOKS_RETENTION_DAYS must be at least 1 (days finished runs are kept), "
                f"got {self.retention_days}"
            )
        return self

    def connection(self) -> KubeConnection:
        """The Kubernetes connection these settings name (discovery fills the gaps)."""
        return KubeConnection(
            kubeconfig=self.kubeconfig,
            context=self.kube_context,
            url=self.kube_url,
            token=self.kube_token,
        )

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
