"""Alerts as Prometheus posts them to Alertmanager's API (``POST /api/v2/alerts``)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any


def prometheus_alert(
    labels: Mapping[str, str], *, starts_at: datetime, ends_at: datetime | None = None
) -> dict[str, Any]:
    """One alert of a ``postableAlerts`` body; an ``ends_at`` in the past resolves it."""
    alert: dict[str, Any] = {
        "labels": dict(labels),
        "annotations": {"summary": f"{labels.get('alertname', 'alert')} (end-to-end test)"},
        "startsAt": starts_at.isoformat(),
        "generatorURL": "http://127.0.0.1:9090/graph?g0.expr=up%3D%3D0",
    }
    if ends_at is not None:
        alert["endsAt"] = ends_at.isoformat()
    return alert
