"""``runbooks fire``: send an Alertmanager-format alert to a running engine (demos and drills)."""

from __future__ import annotations

import argparse

import httpx

from engine.credentials import CredentialsError, webhook_auth
from engine.firing import fire_alert
from engine.settings import EngineSettings


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
