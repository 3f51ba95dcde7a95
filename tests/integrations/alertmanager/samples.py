"""Payloads captured from a real Alertmanager 0.25, as test fixtures."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).with_name("fixtures")


def load_fixture(name: str) -> Any:
    """The parsed JSON of ``fixtures/<name>.json``."""
    return json.loads((FIXTURES / f"{name}.json").read_text())


def webhook_body(name: str) -> dict[str, Any]:
    """The body Alertmanager posted in a captured webhook request: ``firing``, ``resolved``
    or ``group_2alerts``; a fresh copy each call, free to modify."""
    captured = load_fixture(f"alertmanager_webhook_{name}")
    return copy.deepcopy(captured["body"])
