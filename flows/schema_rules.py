"""Parameter combinations a flow refuses, written into its deployment's parameter schema.

Prefect builds a deployment's parameter schema from the flow function's signature: each field
on its own, so a rule between fields (``scope: service`` needs ``service``) is known only to the
flow's parameter model and a bad combination fails the run once it runs. `with_rules` copies the
model's rules between fields (JSON Schema ``allOf``/``if``/``then``..., from its
``json_schema_extra``) into the flow's schema, where the engine's parameter check and Prefect's
server (behind the UI's run form) refuse the run before it exists.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from prefect import Flow
from prefect.utilities.callables import ParameterSchema
from pydantic import BaseModel, ConfigDict

FlowT = TypeVar("FlowT", bound=Flow[Any, Any])

RULE_KEYWORDS = ("allOf", "anyOf", "oneOf", "not", "if", "then", "else", "dependentRequired")
"""The keywords of a model's schema that relate its fields rather than describe one."""


class RuledParameterSchema(ParameterSchema):
    """Prefect's parameter schema, keeping rules between fields (it drops unknown keys)."""

    model_config = ConfigDict(extra="allow")


def schema_rules(model: type[BaseModel]) -> dict[str, Any]:
    """The rules between a model's fields, as its JSON Schema states them."""
    schema = model.model_json_schema()
    return {key: schema[key] for key in RULE_KEYWORDS if key in schema}


def with_rules(model: type[BaseModel]) -> Callable[[FlowT], FlowT]:
    """Decorate a flow (above ``@flow``) so its parameter schema carries ``model``'s rules."""
    rules = schema_rules(model)

    def apply(flow: FlowT) -> FlowT:
        flow.parameters = RuledParameterSchema(**flow.parameters.model_dump(), **rules)
        return flow

    return apply
