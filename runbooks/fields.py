"""Building blocks of the runbook schema: the strict base model, and constrained field types."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    PlainSerializer,
    WithJsonSchema,
)
from pydantic_core import PydanticCustomError

from runbooks.durations import DURATION_PATTERN, parse_duration
from runbooks.templates import template_fields

LABEL_NAME_PATTERN = r"^[a-zA-Z_][a-zA-Z0-9_]*$"
PARAMETER_NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*$"
RUNBOOK_NAME_PATTERN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
DEPLOYMENT_NAME_PATTERN = r"^[^/\s]+/[^/\s]+$"

Scalar = str | int | float | bool
"""A constant flow parameter value, or a value taken from an alert label (always a string)."""


class CatalogModel(BaseModel):
    """Base of the schema models: unknown fields are errors, instances are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def schema_error(message: str, *, fix: str, at: tuple[str | int, ...] = ()) -> PydanticCustomError:
    """Build a validation error that carries its fix and, optionally, a deeper location.

    Args:
        message: What is wrong, naming the offending value.
        fix: What the author should write instead.
        at: Path below the validated field where the problem is (pydantic cannot point deeper
            than the field a validator belongs to; the catalog validation appends this).
    """
    # The message goes through the context: pydantic formats the template, and runbook templates
    # such as "{namespace}" must not be mistaken for placeholders.
    return PydanticCustomError("runbook", "{message}", {"message": message, "fix": fix, "at": at})


def _matching(pattern: str, *, what: str, example: str) -> AfterValidator:
    compiled = re.compile(pattern)

    def check(value: str) -> str:
        if not compiled.fullmatch(value):
            raise schema_error(
                f"{what} {value!r} is not valid",
                fix=f"write it like {example!r} (pattern {pattern})",
            )
        return value

    return AfterValidator(check)


def _compile_regex(value: object) -> object:
    if not isinstance(value, str):
        return value
    try:
        return re.compile(value)
    except re.error as error:
        raise schema_error(
            f"regex {value!r} does not compile: {error}",
            fix="correct the regular expression; it must match the whole label value",
        ) from error


def _check_template(value: str) -> str:
    try:
        template_fields(value)
    except ValueError as error:
        raise schema_error(
            str(error), fix="write a template like '{namespace}/{service}' using parameter names"
        ) from error
    return value


def _check_duration(value: str) -> str:
    try:
        parse_duration(value)
    except ValueError as error:
        raise schema_error(str(error), fix="write a duration such as '10m' or '1h30m'") from error
    return value


LabelName = Annotated[
    str,
    _matching(LABEL_NAME_PATTERN, what="label name", example="namespace"),
    WithJsonSchema({"type": "string", "pattern": LABEL_NAME_PATTERN}),
]
ParameterName = Annotated[
    str,
    _matching(PARAMETER_NAME_PATTERN, what="parameter name", example="service"),
    WithJsonSchema({"type": "string", "pattern": PARAMETER_NAME_PATTERN}),
]
RunbookName = Annotated[
    str,
    _matching(RUNBOOK_NAME_PATTERN, what="runbook name", example="service-down"),
    WithJsonSchema({"type": "string", "pattern": RUNBOOK_NAME_PATTERN}),
]
DeploymentName = Annotated[
    str,
    _matching(
        DEPLOYMENT_NAME_PATTERN, what="deployment", example="service-checklist/service-checklist"
    ),
    WithJsonSchema({"type": "string", "pattern": DEPLOYMENT_NAME_PATTERN}),
]
RegexPattern = Annotated[
    re.Pattern[str],
    BeforeValidator(_compile_regex),
    PlainSerializer(lambda pattern: pattern.pattern, return_type=str),
    WithJsonSchema({"type": "string", "format": "regex"}),
]
Template = Annotated[
    str,
    AfterValidator(_check_template),
    WithJsonSchema({"type": "string", "description": "e.g. '{namespace}/{service}'"}),
]
Duration = Annotated[
    str,
    AfterValidator(_check_duration),
    WithJsonSchema({"type": "string", "pattern": DURATION_PATTERN}),
]


def _require_scalar(value: object) -> object:
    if isinstance(value, str | int | float | bool):
        return value
    raise schema_error(
        f"constant {value!r} is not a string, number or boolean",
        fix="give a single string, number or boolean",
    )


Constant = Annotated[Scalar, BeforeValidator(_require_scalar)]
