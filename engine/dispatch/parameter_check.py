"""Checking a run's parameters against its deployment's schema before handing it to Prefect.

Prefect's server validates every run it creates against the deployment's parameter schema, and
re-checks the schema itself (against the JSON Schema meta-schema) each time: about 19 ms of server
CPU per run here, the larger part of creating one. The engine knows the schema of every deployment
it registers, so it validates here instead, with the schema prepared and checked once, and asks
Prefect not to enforce it again. A bad value is still refused before any run exists, with the
field named.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from prefect.utilities.schema_tools.validation import (
    is_valid_schema,
    preprocess_schema,
    validate,
)


class ParameterCheck:
    """Validates parameters against one deployment's parameter schema, as Prefect's server would.

    Args:
        schema: The deployment's ``parameter_openapi_schema``.
        defaults: The deployment's parameters, which a run's own override (as Prefect merges
            them before validating).

    Raises:
        ValueError: The schema itself is not valid.
    """

    def __init__(
        self, schema: Mapping[str, Any], *, defaults: Mapping[str, Any] | None = None
    ) -> None:
        self._schema = preprocess_schema(dict(schema))
        is_valid_schema(self._schema, preprocess=False)
        self._defaults = dict(defaults or {})

    def problems(self, parameters: Mapping[str, Any]) -> list[str]:
        """Why the parameters would be refused, one line per problem naming its field."""
        merged = {**self._defaults, **parameters}
        errors = validate(merged, self._schema, preprocess=False)
        return [_describe(error.json_path, error.message) for error in errors]


def _describe(json_path: str, message: str) -> str:
    field = json_path.removeprefix("$.").removeprefix("$")
    return f"parameter {field!r}: {message}" if field else f"parameters: {message}"
