"""Key templates such as "{namespace}/{service}", filled from a runbook's resolved parameters."""

from __future__ import annotations

import re
import string
from collections.abc import Mapping

_FIELD_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def template_fields(template: str) -> tuple[str, ...]:
    """Return the parameter names a template refers to, in order of first use.

    Only plain ``{name}`` fields are allowed: no attribute access, indexing, conversion or format
    spec, so that rendering can never run code or fail on a value's type.

    Raises:
        ValueError: When the template is malformed or uses anything but plain ``{name}`` fields.
    """
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as error:
        raise ValueError(f"template {template!r} is malformed: {error}") from error
    names: list[str] = []
    for _literal, field, spec, conversion in parsed:
        if field is None:
            continue
        if not _FIELD_NAME.fullmatch(field) or spec or conversion:
            raise ValueError(
                f"template {template!r} has field {{{field}}}: only plain {{parameter_name}} "
                "fields are allowed"
            )
        if field not in names:
            names.append(field)
    return tuple(names)


def render_template(template: str, values: Mapping[str, object]) -> str:
    """Fill a template validated by `template_fields` with parameter values.

    Raises:
        KeyError: When a field of the template has no value.
    """
    return template.format_map(values)
