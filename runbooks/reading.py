"""Reading one runbook file: YAML syntax, duplicate keys and schema errors, each with its line."""

from __future__ import annotations

import difflib
import types
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from runbooks.model import Runbook
from runbooks.problems import CatalogProblem, format_field_path
from runbooks.yaml_nodes import duplicate_keys, locate, parse_yaml

_SCHEMA_HINT = "see runbooks/schema.json"


@dataclass(frozen=True, slots=True)
class RunbookFile:
    """The outcome of reading one file: the runbook when valid, and the node tree for locating."""

    path: Path
    runbook: Runbook | None
    root: yaml.Node | None
    problems: tuple[CatalogProblem, ...]

    def line_of(self, *path: str | int) -> int:
        """The 1-based line of a field path in this file (its parent's line when absent)."""
        return locate(self.root, path).line


def read_runbook_file(path: Path) -> RunbookFile:
    """Read, parse and validate one runbook file; never raises for a bad file."""
    file = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        problem = CatalogProblem(file, None, "", f"cannot read the file: {error}", "fix the file")
        return RunbookFile(path, None, None, (problem,))
    try:
        document = parse_yaml(text)
    except yaml.YAMLError as error:
        return RunbookFile(path, None, None, (_syntax_problem(file, error),))
    if not isinstance(document.data, dict):
        problem = CatalogProblem(
            file,
            1,
            "",
            "the file is not a mapping of runbook fields",
            "write one runbook as 'name: ...', 'description: ...', ... (see runbooks/schema.json)",
        )
        return RunbookFile(path, None, document.root, (problem,))
    problems = [_duplicate_problem(file, *dup) for dup in duplicate_keys(document.root)]
    try:
        runbook: Runbook | None = Runbook.model_validate(document.data)
    except ValidationError as error:
        runbook = None
        problems.extend(_schema_problem(file, document.root, detail) for detail in error.errors())
    return RunbookFile(path, runbook if not problems else None, document.root, tuple(problems))


def _syntax_problem(file: str, error: yaml.YAMLError) -> CatalogProblem:
    line: int | None = None
    message = str(error)
    if isinstance(error, yaml.MarkedYAMLError):
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark is not None else None
        message = " ".join(part for part in (error.context, error.problem) if part)
    return CatalogProblem(
        file, line, "", f"YAML syntax error: {message}", "correct the YAML at that line"
    )


def _duplicate_problem(
    file: str, path: tuple[str | int, ...], first: int, repeat: int
) -> CatalogProblem:
    field = format_field_path(path)
    return CatalogProblem(
        file,
        repeat,
        field,
        f"{field} is written twice (first on line {first}); YAML would keep only this one",
        "remove one of the two",
    )


def _schema_problem(file: str, root: yaml.Node | None, error: ErrorDetails) -> CatalogProblem:
    loc: list[str | int] = list(error["loc"])
    ctx: dict[str, Any] = dict(error.get("ctx") or {})
    if error["type"] == "runbook":
        loc.extend(ctx["at"])
    path = [part for part in loc if part != "[key]"]
    field = format_field_path(path)
    line = locate(root, loc).line
    message, fix = _explain(error, path, ctx)
    return CatalogProblem(file, line, field, message, fix)


def _explain(
    error: ErrorDetails, path: Sequence[str | int], ctx: dict[str, Any]
) -> tuple[str, str]:
    """Turn a pydantic error into a message naming the field, and a fix."""
    field = format_field_path(path) or "the runbook"
    name = str(path[-1]) if path else ""
    kind = error["type"]
    if kind == "runbook":
        return f"{field}: {ctx['message']}", str(ctx["fix"])
    if kind == "missing":
        model = _model_at(path[:-1])
        described = model.model_fields[name].description if model else None
        hint = f" ({described})" if described else ""
        return f"required field {field} is missing", f"add {name}: <value>{hint}"
    if kind == "extra_forbidden":
        parent = _model_at(path[:-1])
        allowed = sorted(parent.model_fields) if parent else []
        close = difflib.get_close_matches(name, allowed, n=1)
        guess = f"did you mean {close[0]!r}? " if close else ""
        return (
            f"unknown field {field}",
            f"{guess}remove it or use one of: {', '.join(allowed) or _SCHEMA_HINT}",
        )
    if kind == "string_type":
        return (
            f"{field}: {error['msg']} (got {error['input']!r})",
            "quote the value: YAML reads unquoted numbers, yes/no/on/off and null as non-strings",
        )
    if kind == "enum":
        return f"{field}: {error['msg']}", f"use one of: {ctx['expected']}"
    return f"{field}: {error['msg']}", f"correct the value ({_SCHEMA_HINT})"


def _model_at(path: Sequence[str | int]) -> type[BaseModel] | None:
    """The schema model found at a field path of a runbook, if that path names a model."""
    current: Any = Runbook
    for part in path:
        current = _unwrap(current)
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = current.model_fields.get(str(part))
            if field is None:
                return None
            current = field.annotation
        elif get_origin(current) in (dict, tuple):
            current = get_args(current)[-1] if get_origin(current) is dict else get_args(current)[0]
        else:
            return None
    current = _unwrap(current)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _unwrap(annotation: Any) -> Any:
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation = get_args(annotation)[0]
        elif origin in (Union, types.UnionType):
            members = [arg for arg in get_args(annotation) if arg is not type(None)]
            if len(members) != 1:
                return annotation
            annotation = members[0]
        else:
            return annotation
