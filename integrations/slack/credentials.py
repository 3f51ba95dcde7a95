"""The one typed Slack configuration object, and the one way to get a Web API client from it."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, SecretStr
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

SLACK_API_URL = "https://slack.com/api/"


class SlackCredentials(BaseModel):
    """A Slack app's bot token and signing secret, and the channel approvals go to."""

    model_config = ConfigDict(frozen=True)

    bot_token: SecretStr = Field(description="The app's bot token (xoxb-...).")
    signing_secret: SecretStr = Field(description="Verifies that callbacks come from Slack.")
    channel: str = Field(min_length=1, description="Channel ID approvals are posted to (C...).")
    api_url: str = Field(default=SLACK_API_URL, description="Slack's Web API base URL.")
    timeout_seconds: float = Field(default=10.0, gt=0, description="Per-request timeout.")

    def get_client(self) -> WebClient:
        """A Web API client that retries connection errors, rate limits and 5xx twice."""
        return WebClient(
            token=self.bot_token.get_secret_value(),
            base_url=self.api_url,
            timeout=int(self.timeout_seconds),
            retry_handlers=[
                ConnectionErrorRetryHandler(max_retry_count=2),
                RateLimitErrorRetryHandler(max_retry_count=2),
                ServerErrorRetryHandler(max_retry_count=2),
            ],
        )
