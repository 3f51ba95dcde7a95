"""Runbook files for the catalog validation tests: a valid one, a manual one, and writers."""

from __future__ import annotations

import textwrap
from pathlib import Path

from runbooks.problems import CatalogProblem
from runbooks.validation import ALERT_IDENTITY_PARAMETERS

#: A valid alert-driven runbook (the line numbers in the tests count from its first line).
VALID = """\
name: service-down
description: Service has no ready endpoint.
match:
  labels:
    alertname: ServiceDown
deployment: service-checklist/service-checklist
parameters:
  namespace:
    from_label: namespace
  service:
    from_label: [service, endpoint]
cooldown:
  duration: 10m
  target: "{namespace}/{service}"
concurrency_key: "service/{namespace}/{service}"
"""

CHECKLIST = {
    "service-checklist/service-checklist": {
        "namespace",
        "service",
        "scope",
        *ALERT_IDENTITY_PARAMETERS,
    }
}


def write_runbook(directory: Path, name: str, text: str) -> Path:
    """Write a runbook file (dedented) into ``directory``; returns its path."""
    path = directory / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def where(problems: list[CatalogProblem]) -> list[tuple[str, int | None, str]]:
    """Each problem as (file name, line, field path), to compare with a table."""
    return [(Path(p.file).name, p.line, p.field_path) for p in problems]


MANUAL = """\
name: conntrack-cleanup
description: Delete stale conntrack entries.
manual_only: true
deployment: conntrack-cleanup/conntrack-cleanup
concurrency_key: "conntrack/{namespace}/{pod_ip}"
"""
