"""Alertmanager adapter: webhook payload models and the Alertmanager API."""

from integrations.alertmanager.api import (
    AlertmanagerClient,
    AlertmanagerError,
    AlertmanagerUnavailableError,
    AlertState,
    ApiAlert,
    ApiAlertStatus,
)
from integrations.alertmanager.decoding import PayloadError, PayloadProblem, decode_notification
from integrations.alertmanager.fingerprint import fingerprint_labels
from integrations.alertmanager.webhook import (
    ZERO_TIME,
    AlertStatus,
    WebhookAlert,
    WebhookNotification,
)

__all__ = [
    "ZERO_TIME",
    "AlertState",
    "AlertStatus",
    "AlertmanagerClient",
    "AlertmanagerError",
    "AlertmanagerUnavailableError",
    "ApiAlert",
    "ApiAlertStatus",
    "PayloadError",
    "PayloadProblem",
    "WebhookAlert",
    "WebhookNotification",
    "decode_notification",
    "fingerprint_labels",
]
