"""Run forms people read: a flow's parameters shown in the Prefect UI with human titles.

Prefect builds a deployment's run form from the flow function's signature and titles each field
with the parameter's name (``approval_timeout_seconds``). `titled` gives the form the titles of
the flow's parameter model (``Field(title=...)``), or those given, leaving names and types as
they are: runs, runbooks and the engine's checks still use the parameter names.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from prefect import Flow
from pydantic import BaseModel

FlowT = TypeVar("FlowT", bound=Flow[Any, Any])


def form_titles(source: type[BaseModel] | Mapping[str, str]) -> dict[str, str]:
    """Parameter name -> title: a model's field titles, or the mapping itself."""
    if isinstance(source, Mapping):
        return dict(source)
    return {name: field.title for name, field in source.model_fields.items() if field.title}


def titled(source: type[BaseModel] | Mapping[str, str]) -> Callable[[FlowT], FlowT]:
    """Decorate a flow (above ``@flow``) so its run form shows ``source``'s titles."""
    titles = form_titles(source)

    def apply(flow: FlowT) -> FlowT:
        for name, field in flow.parameters.properties.items():
            if name in titles:
                field["title"] = titles[name]
        return flow

    return apply
