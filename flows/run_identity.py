"""What a flow run started for an alert carries: tags to find it by, labels for the record."""

from __future__ import annotations

from datetime import datetime

from engine.alert_record import as_utc, episode_key
from engine.cooldown import cooldown_tag
from engine.handoff import ResolvedAlert, RunRequest
from engine.targets import target_tag


def episode_tag(fingerprint: str, starts_at: datetime) -> str:
    """The tag shared by every run of one alert episode (what a resolution looks up)."""
    return f"episode:{episode_key(fingerprint, starts_at)}"


def run_tags(request: RunRequest) -> list[str]:
    """The tags a run carries, to find it in the UI and from a resolution or a cooldown check."""
    tags = [
        f"alert:{request.alertname}",
        f"fingerprint:{request.alert_fingerprint}",
        f"runbook:{request.runbook}",
        episode_tag(request.alert_fingerprint, request.alert_starts_at),
    ]
    if request.concurrency_key:
        tags.append(target_tag(request.concurrency_key))
    if request.cooldown_key:
        tags.append(cooldown_tag(request.cooldown_key))
    return tags


def run_labels(request: RunRequest) -> dict[str, str]:
    """Key-value labels kept on the run for the record: the alert's labels and its identity."""
    labels = {f"alert.{name}": value for name, value in request.labels.items()}
    labels["alert.fingerprint"] = request.alert_fingerprint
    labels["alert.starts_at"] = as_utc(request.alert_starts_at).isoformat()
    labels["runbook"] = request.runbook
    if request.concurrency_key:
        labels["concurrency_key"] = request.concurrency_key
    return labels


def resolved_message(alert: ResolvedAlert) -> str:
    """The state message of a run cancelled because its alert resolved."""
    return f"Alert {alert.alertname} resolved at {as_utc(alert.ends_at).isoformat()}; not needed."
