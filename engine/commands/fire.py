"""``runbooks fire``: send a hand-made Alertmanager notification to a running engine."""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from engine.intake.auth import WebhookAuth
from engine.intake.credentials import CredentialsError, webhook_auth
from engine.settings import EngineSettings
from integrations.alertmanager import ZERO_TIME, WebhookAlert, WebhookNotification
from integrations.alertmanager.fingerprint import fingerprint_labels

RECEIVER_NAME = "runbooks-fire"
GROUP_BY = ("alertname", "namespace", "service")
"""The route's group_by in deploy/alertmanager/alertmanager.yml, so groupKey reads the same."""


@dataclass(frozen=True)
class FireSummary:
    """What the engine answered.

    Attributes:
        status_code: The HTTP status of the answer.
        fingerprint: The alert's fingerprint (the one Alertmanager would compute).
        starts_at: The alert's startsAt; a later ``--resolve`` must send the same.
        alerts: The receiver's per-alert outcomes (runbook, flow_run_id, outcome).
        error: The receiver's error message when it refused the notification.
    """

    status_code: int
    fingerprint: str
    starts_at: datetime
    alerts: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None

    @property
    def accepted(self) -> bool:
        """Whether the engine took the notification."""
        return 200 <= self.status_code < 300

    def describe(self) -> str:
        """Lines for the terminal: one per outcome, or the error."""
        head = f"HTTP {self.status_code}  fingerprint={self.fingerprint}"
        if not self.accepted:
            return f"{head}\n  error: {self.error}"
        lines = [head]
        for entry in self.alerts:
            run = entry.get("flow_run_id") or "-"
            what = entry.get("runbook") or entry.get("detail") or ""
            lines.append(f"  {entry.get('outcome')}: {what} (flow run {run})")
        return "\n".join(lines)


def build_notification(
    *,
    alertname: str,
    labels: Mapping[str, str],
    resolve: bool,
    starts_at: datetime,
    ends_at: datetime,
    annotations: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Build a version 4 webhook payload for one alert, as Alertmanager would send it.

    Args:
        alertname: The ``alertname`` label (overrides one in `labels`).
        labels: The other labels.
        resolve: Send it resolved rather than firing.
        starts_at: When it started firing; the resolve of an episode repeats its startsAt.
        ends_at: When it resolved (used only with `resolve`).
        annotations: Annotations; a summary saying it was fired by hand by default.
    """
    all_labels = {**labels, "alertname": alertname}
    status = "resolved" if resolve else "firing"
    alert = WebhookAlert(
        status=status,
        labels=all_labels,
        annotations=dict(annotations or {"summary": f"{alertname} fired by hand (runbooks fire)"}),
        starts_at=starts_at,
        ends_at=ends_at if resolve else ZERO_TIME,
        fingerprint=fingerprint_labels(all_labels),
    )
    group_labels = {name: all_labels[name] for name in GROUP_BY if name in all_labels}
    group = ", ".join(f'{name}="{value}"' for name, value in sorted(group_labels.items()))
    notification = WebhookNotification(
        version="4",
        group_key=f"{{}}:{{{group}}}",
        status=status,
        receiver=RECEIVER_NAME,
        group_labels=group_labels,
        common_labels=all_labels,
        common_annotations=alert.annotations,
        alerts=[alert],
    )
    document = notification.model_dump(mode="json", by_alias=True)
    # Alertmanager sends Go's zero time for a firing alert's endsAt; the model reads it as None.
    document["alerts"][0]["endsAt"] = _rfc3339(ends_at if resolve else ZERO_TIME)
    return document


def fire_alert(
    url: str,
    *,
    alertname: str,
    labels: Mapping[str, str],
    resolve: bool,
    auth: WebhookAuth,
    starts_at: datetime | None = None,
    memory: Path | None = None,
    timeout: float = 10.0,
) -> FireSummary:
    """Send one alert, firing or resolved, to the engine's webhook and summarise the answer.

    Args:
        url: The webhook URL, e.g. ``http://127.0.0.1:8080/alertmanager``.
        alertname: The alert's name.
        labels: The other labels (``namespace``, ``service``...).
        resolve: Send it resolved.
        auth: The engine's webhook credentials.
        starts_at: The episode's startsAt; None uses the one remembered when it was fired
            (for a resolve), else now.
        memory: A JSON file remembering the startsAt of fired alerts, so ``--resolve``
            resolves the same episode; None remembers nothing.
        timeout: Seconds to wait for the engine.

    Raises:
        httpx.HTTPError: The engine could not be reached.
    """
    now = datetime.now(UTC)
    fingerprint = fingerprint_labels({**labels, "alertname": alertname})
    remembered = _recall(memory, fingerprint) if memory is not None else None
    episode = starts_at or remembered or now
    payload = build_notification(
        alertname=alertname, labels=labels, resolve=resolve, starts_at=episode, ends_at=now
    )
    headers = {}
    if (authorization := auth.authorization_header()) is not None:
        headers["Authorization"] = authorization
    response = httpx.post(url, json=payload, headers=headers, timeout=timeout)
    summary = _summarise(response, fingerprint=fingerprint, starts_at=episode)
    if memory is not None and summary.accepted:
        _remember(memory, fingerprint, None if resolve else episode)
    return summary


def _summarise(response: httpx.Response, *, fingerprint: str, starts_at: datetime) -> FireSummary:
    try:
        body = response.json()
    except json.JSONDecodeError:
        body = {"error": response.text[:500]}
    if not isinstance(body, dict):
        body = {"error": str(body)[:500]}
    alerts = body.get("alerts")
    return FireSummary(
        status_code=response.status_code,
        fingerprint=fingerprint,
        starts_at=starts_at,
        alerts=alerts if isinstance(alerts, list) else [],
        error=body.get("error"),
    )


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _recall(memory: Path, fingerprint: str) -> datetime | None:
    value = _read_memory(memory).get(fingerprint)
    return datetime.fromisoformat(value) if isinstance(value, str) else None


def _remember(memory: Path, fingerprint: str, starts_at: datetime | None) -> None:
    fired = _read_memory(memory)
    if starts_at is None:
        fired.pop(fingerprint, None)
    else:
        fired[fingerprint] = starts_at.isoformat()
    memory.parent.mkdir(parents=True, exist_ok=True)
    memory.write_text(json.dumps(fired, indent=2, sort_keys=True) + "\n")


def _read_memory(memory: Path) -> dict[str, Any]:
    try:
        loaded = json.loads(memory.read_text())
    except FileNotFoundError:
        return {}
    except json.JSONDecodeError:
        # A damaged memory only costs the startsAt of earlier fires; start afresh.
        return {}
    return loaded if isinstance(loaded, dict) else {}


def parse_labels(pairs: list[str]) -> dict[str, str]:
    """Turn ``k=v`` arguments into a label map.

    Raises:
        ValueError: an argument is not ``key=value``; the message names it and the fix.
    """
    labels: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ValueError(f"--label {pair!r}: expected key=value, e.g. --label namespace=shop")
        labels[key] = value
    return labels


def run_fire(args: argparse.Namespace, settings: EngineSettings) -> int:
    """Send the alert (firing, or resolved with ``--resolve``) and print the engine's answer."""
    try:
        labels = parse_labels(args.label)
        auth = webhook_auth(settings)
    except (ValueError, CredentialsError) as error:
        print(f"error: {error}")
        return 2
    url = args.url or f"http://{settings.listen_host}:{settings.listen_port}/alertmanager"
    try:
        summary = fire_alert(
            url,
            alertname=args.alertname,
            labels=labels,
            resolve=args.resolve,
            auth=auth,
            memory=settings.state_dir / "fired-alerts.json",
        )
    except httpx.HTTPError as error:
        print(f"error: cannot reach the engine at {url}: {error} (is `runbooks up` running?)")
        return 1
    print(summary.describe())
    return 0 if summary.accepted else 1
