"""The runbook JSON Schema, generated from the models; `python -m runbooks.schema` rewrites it."""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from runbooks.model import Runbook

SCHEMA_PATH = Path(__file__).with_name("schema.json")
"""The committed schema file, for editors (yaml-language-server) and reviewers."""


def runbook_json_schema() -> dict[str, Any]:
    """Return the JSON Schema of one runbook file."""
    schema = Runbook.model_json_schema(mode="validation")
    _close_pattern_properties(schema)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://service-runbooks/runbooks/schema.json",
        **schema,
    }


def _close_pattern_properties(node: object) -> None:
    """Refuse keys that match no key pattern, as the models do (pydantic leaves them open)."""
    if isinstance(node, dict):
        if "patternProperties" in node:
            node.setdefault("additionalProperties", False)
        for value in node.values():
            _close_pattern_properties(value)
    elif isinstance(node, list):
        for item in node:
            _close_pattern_properties(item)


def render_schema() -> str:
    """Return the schema file's exact text (stable key order, trailing newline)."""
    return json.dumps(runbook_json_schema(), indent=2, sort_keys=True) + "\n"


def write_schema(path: Path = SCHEMA_PATH) -> Path:
    """Regenerate the schema file.

    Returns:
        The path written.
    """
    path.write_text(render_schema(), encoding="utf-8")
    return path


def schema_is_current(path: Path = SCHEMA_PATH) -> bool:
    """Return whether the file at `path` equals the generated schema."""
    return path.is_file() and path.read_text(encoding="utf-8") == render_schema()


def main(argv: Sequence[str] | None = None) -> int:
    """Write the schema, or with ``--check`` report whether the committed one is stale."""
    parser = argparse.ArgumentParser(prog="python -m runbooks.schema", description=__doc__)
    parser.add_argument("--check", action="store_true", help="exit 1 if the file is stale")
    parser.add_argument("--path", type=Path, default=SCHEMA_PATH, help="schema file to write")
    args = parser.parse_args(argv)
    if args.check:
        if schema_is_current(args.path):
            return 0
        print(f"{args.path} is stale: run python -m runbooks.schema")
        return 1
    print(f"wrote {write_schema(args.path)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
