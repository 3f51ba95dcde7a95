"""The checklist flow's form: the parameter model's fields, with their descriptions and defaults."""

from __future__ import annotations

from flows.checklist.flow import service_checklist
from flows.checklist.parameters import ChecklistParameters


def test_the_flows_form_is_the_parameter_models_fields_with_their_defaults() -> None:
    form = service_checklist.parameters.properties

    assert list(form) == list(ChecklistParameters.model_fields)
    for name, field in ChecklistParameters.model_fields.items():
        assert form[name]["description"] == field.description
        if not field.is_required():
            assert form[name].get("default") == field.default, name
