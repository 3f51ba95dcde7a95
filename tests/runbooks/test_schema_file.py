"""The committed JSON Schema matches the models, and can be regenerated."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from runbooks.loader import SHIPPED_CATALOG
from runbooks.schema import SCHEMA_PATH, main, render_schema, runbook_json_schema


def test_the_committed_schema_is_up_to_date() -> None:
    # On failure, regenerate it: uv run python -m runbooks.schema
    assert SCHEMA_PATH.read_text(encoding="utf-8") == render_schema()


def test_the_schema_forbids_unknown_fields_and_requires_the_essentials() -> None:
    schema = runbook_json_schema()

    assert schema["additionalProperties"] is False
    assert set(schema["required"]) == {"name", "description", "deployment", "concurrency_key"}


def test_the_schema_accepts_constants_and_label_sources_as_parameters() -> None:
    parameters = runbook_json_schema()["properties"]["parameters"]
    (parameter,) = parameters["patternProperties"].values()

    kinds = [option.get("type") or option.get("$ref") for option in parameter["anyOf"]]
    assert kinds == ["string", "integer", "number", "boolean", "#/$defs/ParameterSource"]
    assert parameters["additionalProperties"] is False


def test_the_check_flag_reports_a_stale_file_and_writing_fixes_it(tmp_path: Path) -> None:
    path = tmp_path / "schema.json"
    path.write_text("{}\n", encoding="utf-8")

    assert main(["--check", "--path", str(path)]) == 1
    assert main(["--path", str(path)]) == 0
    assert main(["--check", "--path", str(path)]) == 0
    assert json.loads(path.read_text(encoding="utf-8"))["title"] == "Runbook"


def test_every_shipped_runbook_points_editors_at_the_schema() -> None:
    for path in sorted(SHIPPED_CATALOG.glob("*.yaml")):
        first_line = path.read_text(encoding="utf-8").splitlines()[0]
        assert first_line == "# yaml-language-server: $schema=../schema.json", path.name
        assert isinstance(yaml.safe_load(path.read_text(encoding="utf-8")), dict)
