"""Parameter checks: a run's parameters are judged against its deployment's schema, as Prefect's."""

from __future__ import annotations

import pytest

from engine.deployments import parameter_checks
from engine.dispatch.parameter_check import ParameterCheck
from flows.checklist.flow import service_checklist
from tests.engine.conftest import SAMPLE_SPECS

CHECKLIST = ParameterCheck(service_checklist.parameters.model_dump())


def test_parameters_that_fit_the_schema_have_no_problems() -> None:
    assert CHECKLIST.problems({"scope": "service", "namespace": "shop", "service": "web"}) == []


@pytest.mark.parametrize(
    ("parameters", "problem"),
    [
        ({"scope": "everything"}, "parameter 'scope': 'everything' is not one of"),
        (
            {"scope": "service", "namespace": "shop", "service": "web", "dry_run": "yes"},
            "parameter 'dry_run': 'yes' is not of type",
        ),
    ],
)
def test_a_bad_value_is_named_with_its_field(parameters: dict[str, object], problem: str) -> None:
    problems = CHECKLIST.problems(parameters)

    assert len(problems) == 1
    assert problems[0].startswith(problem)


def test_the_deployments_defaults_fill_in_what_the_run_leaves_out() -> None:
    check = parameter_checks(SAMPLE_SPECS)["engine-test-record/engine-test-record"]

    assert check.problems({"marker": "m"}) == []
    assert check.problems({}) == ["parameters: 'marker' is a required property"]


def test_an_invalid_schema_is_refused_when_the_check_is_built() -> None:
    with pytest.raises(ValueError, match="Invalid schema"):
        ParameterCheck({"type": "object", "properties": {"n": {"type": "no-such-type"}}})
