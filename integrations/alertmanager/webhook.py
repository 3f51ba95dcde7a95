"""Alertmanager's webhook notification (payload version 4), as pydantic models."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StrictInt, field_validator

AlertStatus = Literal["firing", "resolved"]

ZERO_TIME = datetime(1, 1, 1, tzinfo=UTC)
"""Go's zero ``time.Time``: Alertmanager sends it as ``endsAt`` of an alert still firing."""


class WebhookAlert(BaseModel):
    """One alert of a notification.

    Attributes:
        status: ``firing`` or ``resolved``.
        labels: The alert's identity; matching looks only at these.
        annotations: Free text (summary, description, links).
        starts_at: When the alert started firing; with the fingerprint it names one episode.
        ends_at: When it resolved (or will be considered resolved); None while unset.
        generator_url: Link to the rule's expression in Prometheus.
        fingerprint: Alertmanager's hash of the labels.
    """

    # Unknown fields are ignored: newer Alertmanager releases add fields to the payload.
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)

    status: AlertStatus
    labels: dict[str, str]
    annotations: dict[str, str] = Field(default_factory=dict)
    starts_at: AwareDatetime = Field(alias="startsAt")
    ends_at: AwareDatetime | None = Field(default=None, alias="endsAt")
    generator_url: str = Field(default="", alias="generatorURL")
    fingerprint: str = Field(min_length=1)

    @field_validator("ends_at")
    @classmethod
    def _zero_time_is_unset(cls, value: datetime | None) -> datetime | None:
        return None if value == ZERO_TIME else value

    @property
    def alertname(self) -> str:
        """The ``alertname`` label, or ``""`` when absent."""
        return self.labels.get("alertname", "")


class WebhookNotification(BaseModel):
    """A notification for one alert group, as Alertmanager POSTs it to a webhook receiver.

    Attributes:
        version: Always ``"4"`` for the payloads this model reads.
        group_key: Identifies the alert group (the same for every notification of the group).
        truncated_alerts: How many alerts Alertmanager left out because of ``max_alerts``.
        status: ``firing`` when at least one alert of the group fires.
        receiver: The receiver's name in Alertmanager's configuration.
        group_labels: Labels the group is formed by (the route's ``group_by``).
        common_labels: Labels all alerts of the notification share.
        common_annotations: Annotations all alerts share.
        external_url: Alertmanager's own URL, for links back.
        alerts: The alerts; each is matched on its own labels.
    """

    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)

    version: Literal["4"]
    group_key: str = Field(alias="groupKey")
    truncated_alerts: StrictInt = Field(default=0, ge=0, alias="truncatedAlerts")
    status: AlertStatus
    receiver: str
    group_labels: dict[str, str] = Field(default_factory=dict, alias="groupLabels")
    common_labels: dict[str, str] = Field(default_factory=dict, alias="commonLabels")
    common_annotations: dict[str, str] = Field(default_factory=dict, alias="commonAnnotations")
    external_url: str = Field(default="", alias="externalURL")
    alerts: list[WebhookAlert]
