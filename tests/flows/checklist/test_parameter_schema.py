"""A scope without its target is refused when the run is created: the deployment's parameter
schema states what the parameter model checks, for the engine's check and Prefect's server."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from engine.deployments import DeploymentSpec, parameter_checks
from flows.checklist import ChecklistParameters
from flows.checklist.flow import DEPLOYMENT_NAME, service_checklist

SPEC = DeploymentSpec(flow=service_checklist, name=DEPLOYMENT_NAME)

COMBINATIONS: list[tuple[str, dict[str, Any], bool]] = [
    ("service with its target", {"scope": "service", "namespace": "shop", "service": "web"}, True),
    ("service without service", {"scope": "service", "namespace": "shop"}, False),
    (
        "service with service null",
        {"scope": "service", "namespace": "shop", "service": None},
        False,
    ),
    ("service without namespace", {"scope": "service", "service": "web"}, False),
    ("service with nothing", {"scope": "service"}, False),
    ("node with its node", {"scope": "node", "instance": "10.0.0.5:10249"}, True),
    ("node without a node", {"scope": "node"}, False),
    ("node with instance null", {"scope": "node", "instance": None}, False),
    ("cluster needs nothing", {"scope": "cluster"}, True),
    ("a service needs its namespace", {"scope": "cluster", "service": "web"}, False),
    ("a namespace alone is fine", {"scope": "cluster", "namespace": "shop"}, True),
]


def _problems(parameters: dict[str, Any]) -> list[str]:
    return parameter_checks([SPEC])[SPEC.full_name].problems(parameters)


@pytest.mark.parametrize(
    ("parameters", "valid"),
    [pytest.param(params, valid, id=name) for name, params, valid in COMBINATIONS],
)
def test_the_engines_check_refuses_what_the_parameter_model_refuses(
    parameters: dict[str, Any], valid: bool
) -> None:
    try:
        ChecklistParameters.model_validate(parameters)
        model_accepts = True
    except ValidationError:
        model_accepts = False

    assert model_accepts is valid
    assert (_problems(parameters) == []) is valid


def test_a_service_scope_without_its_service_is_refused_naming_what_is_missing() -> None:
    assert _problems({"scope": "service", "namespace": "shop"}) == [
        "parameters: 'service' is a required property"
    ]


def test_the_rules_come_from_the_parameter_models_schema() -> None:
    schema = service_checklist.parameters.model_dump()

    assert schema["allOf"] == ChecklistParameters.model_json_schema()["allOf"]
    assert schema["properties"]["scope"]["title"] == "Scope"
