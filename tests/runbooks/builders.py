"""Builders of runbooks and catalogs for the tests, from plain dictionaries."""

from __future__ import annotations

from typing import Any

from runbooks.model import Runbook
from runbooks.registry import Catalog


def runbook(**fields: Any) -> Runbook:
    """A valid alert-driven runbook, with `fields` replacing the defaults."""
    data: dict[str, Any] = {
        "name": "service-down",
        "description": "Service has no ready endpoint.",
        "match": {"labels": {"alertname": "ServiceDown"}},
        "deployment": "service-checklist/service-checklist",
        "parameters": {
            "namespace": {"from_label": "namespace"},
            "service": {"from_label": ["service", "endpoint"]},
        },
        "concurrency_key": "service/{namespace}/{service}",
    }
    data.update(fields)
    return Runbook.model_validate(data)


def catalog(*runbooks: Runbook) -> Catalog:
    """A catalog of the given runbooks."""
    return Catalog(runbooks)
