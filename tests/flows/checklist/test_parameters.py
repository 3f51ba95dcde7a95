"""Checklist parameters: defaults, bounds, and clear messages for what a scope needs."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from flows.checklist import ChecklistParameters, Scope


def test_defaults_are_careful() -> None:
    params = ChecklistParameters.model_validate(
        {"scope": "service", "namespace": "shop", "service": "web"}
    )

    assert params.scope is Scope.SERVICE
    assert params.service_key == "shop/web"
    assert (params.dry_run, params.auto_approve) == (False, False)
    assert params.kube_proxy_restart_parallelism == 1
    assert params.kube_proxy_restart_budget_fraction == 0.2
    assert params.app_pod_restart_budget_fraction == 0.5
    assert params.approval_timeout_seconds is None  # the runbook's timeout


@pytest.mark.parametrize(
    "fields",
    [
        pytest.param({"scope": "cluster"}, id="cluster needs nothing"),
        pytest.param({"scope": "node", "instance": "10.0.0.5:10249"}, id="node by address"),
        pytest.param({"scope": "service", "namespace": "shop", "service": "web"}, id="service"),
        pytest.param(
            {
                "scope": "cluster",
                "alertname": "KubeProxyDown",
                "alert_starts_at": "2026-11-25T17:08:30Z",
            },
            id="alert fields",
        ),
    ],
)
def test_valid_parameters_are_accepted(fields: dict[str, Any]) -> None:
    assert ChecklistParameters.model_validate(fields).scope == fields["scope"]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {"scope": "service", "namespace": "shop"},
            "scope 'service' needs the Service's namespace and name; missing: service",
        ),
        ({"scope": "service"}, "missing: namespace, service"),
        ({"scope": "node"}, "scope 'node' needs instance"),
        ({"scope": "cluster", "service": "web"}, "service 'web' needs its namespace"),
        ({"scope": "everywhere"}, "Input should be 'service', 'node' or 'cluster'"),
        (
            {"scope": "service", "namespace": "Shop", "service": "web"},
            "String should match pattern",
        ),
        ({"scope": "cluster", "kube_proxy_restart_parallelism": 0}, "greater than or equal to 1"),
        (
            {"scope": "cluster", "kube_proxy_restart_budget_fraction": 1.5},
            "less than or equal to 1",
        ),
        ({"scope": "cluster", "app_pod_restart_budget_fraction": 0}, "greater than 0"),
        ({"scope": "cluster", "approval_timeout_seconds": -1}, "greater than 0"),
        ({"scope": "cluster", "drill": True}, "Extra inputs are not permitted"),
    ],
)
def test_invalid_parameters_say_what_is_wrong(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        ChecklistParameters.model_validate(fields)


def test_every_field_is_described_for_the_prefect_form() -> None:
    schema = ChecklistParameters.model_json_schema()

    undescribed = [
        name for name, field in schema["properties"].items() if not field.get("description")
    ]
    assert undescribed == []
