"""Catalog validation: every problem names its file, line, field and fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from runbooks.loader import load_catalog
from runbooks.problems import CatalogError, CatalogProblem
from runbooks.validation import validate_catalog
from tests.runbooks.catalog_files import CHECKLIST, VALID, where, write_runbook


def test_a_valid_catalog_has_no_problems(tmp_path: Path) -> None:
    write_runbook(tmp_path, "service-down.yaml", VALID)

    assert validate_catalog(tmp_path, known_deployments=CHECKLIST) == []


@pytest.mark.parametrize(
    ("old", "new", "line", "field_path", "message_part", "fix_part"),
    [
        (
            "    alertname: ServiceDown\n",
            "    alertname: ServiceDown\n  labels_regex:\n    namespace: 'prod-(.*'\n",
            7,
            "match.labels_regex.namespace",
            "regex 'prod-(.*' does not compile",
            "correct the regular expression",
        ),
        (
            "    from_label: [service, endpoint]\n",
            "    from_label: [service, endpoint]\n    defualt: x\n",
            12,
            "parameters.service.defualt",
            "unknown field parameters.service.defualt",
            "did you mean 'default'?",
        ),
        (
            "  duration: 10m\n",
            "  duration: ten minutes\n",
            13,
            "cooldown.duration",
            "'ten minutes' is not a duration",
            "'10m'",
        ),
        (
            '  target: "{namespace}/{service}"\n',
            '  target: "{namespace}/{pod}"\n',
            14,
            "cooldown.target",
            "uses {pod}, which is not a parameter",
            "add parameter 'pod' or use one of: namespace, service",
        ),
        (
            "deployment: service-checklist/service-checklist\n",
            "",
            1,
            "deployment",
            "required field deployment is missing",
            "add deployment: <value> (Prefect 'flow-name/deployment-name')",
        ),
        (
            "    from_label: namespace\n",
            "    default: prod\n",
            8,
            "parameters.namespace",
            "a parameter needs a source",
            "{from_label: <label>}",
        ),
        (
            "    alertname: ServiceDown\n",
            "    alertname: ServiceDown\n    code: 503\n",
            6,
            "match.labels.code",
            "match.labels.code: Input should be a valid string (got 503)",
            "quote the value",
        ),
        (
            "  labels:\n    alertname: ServiceDown\n",
            "  labels:\n    alert-name: ServiceDown\n",
            5,
            "match.labels.alert-name",
            "label name 'alert-name' is not valid",
            "write it like 'namespace'",
        ),
        (
            "concurrency_key",
            "approval:\n  actions:\n    flush_conntrack: auto\nconcurrency_key",
            17,
            "approval.actions.flush_conntrack",
            "flush_conntrack cannot be auto",
            "set flush_conntrack: required",
        ),
        (
            "concurrency_key",
            "approval:\n  actions:\n    restart_pods: auto\nconcurrency_key",
            17,
            "approval.actions.restart_pods",
            "Input should be 'diagnose'",
            "use one of: 'diagnose', 'restart_kube_proxy_pod'",
        ),
        (
            "concurrency_key",
            "statuses: [firing, fired]\nconcurrency_key",
            15,
            "statuses[1]",
            "statuses[1]: Input should be 'firing' or 'resolved'",
            "use one of",
        ),
        (
            "match:\n  labels:\n    alertname: ServiceDown\n",
            "",
            1,
            "match",
            "match is missing: the runbook would never start",
            "add match: {labels: {alertname: <AlertName>}}, or set manual_only: true",
        ),
    ],
)
def test_schema_problems_point_at_the_line_and_field(
    tmp_path: Path,
    old: str,
    new: str,
    line: int,
    field_path: str,
    message_part: str,
    fix_part: str,
) -> None:
    assert old in VALID
    write_runbook(tmp_path, "service-down.yaml", VALID.replace(old, new, 1))

    (problem,) = validate_catalog(tmp_path)

    assert (problem.file, problem.line, problem.field_path) == (
        str(tmp_path / "service-down.yaml"),
        line,
        field_path,
    )
    assert message_part in problem.message
    assert fix_part in problem.fix


def test_a_yaml_syntax_error_is_reported_with_its_line(tmp_path: Path) -> None:
    write_runbook(
        tmp_path, "broken.yaml", "name: a\nmatch:\n  labels: {alertname: X\ndeployment: a/b\n"
    )

    (problem,) = validate_catalog(tmp_path)

    assert where([problem]) == [("broken.yaml", 4, "")]
    assert problem.message.startswith("YAML syntax error")


def test_a_key_written_twice_is_a_problem_at_the_repeat(tmp_path: Path) -> None:
    write_runbook(tmp_path, "service-down.yaml", VALID + "deployment: other/other\n")

    (problem,) = validate_catalog(tmp_path)

    assert where([problem]) == [("service-down.yaml", 16, "deployment")]
    assert (
        problem.message
        == "deployment is written twice (first on line 6); YAML would keep only this one"
    )


def test_a_file_that_is_not_a_mapping_is_a_problem(tmp_path: Path) -> None:
    write_runbook(tmp_path, "list.yml", "- name: a\n")

    assert where(validate_catalog(tmp_path)) == [("list.yml", 1, "")]


def test_every_problem_of_a_file_is_reported_at_once(tmp_path: Path) -> None:
    text = VALID.replace("name: service-down", "name: Service Down").replace("10m", "soon")
    write_runbook(tmp_path, "service-down.yaml", text)

    assert where(validate_catalog(tmp_path)) == [
        ("service-down.yaml", 1, "name"),
        ("service-down.yaml", 13, "cooldown.duration"),
    ]


def test_duplicate_runbook_names_are_reported_on_the_second_file(tmp_path: Path) -> None:
    write_runbook(tmp_path, "a.yaml", VALID)
    write_runbook(tmp_path, "b.yaml", "# the same runbook, copied\n" + VALID)

    (problem,) = validate_catalog(tmp_path)

    assert where([problem]) == [("b.yaml", 2, "name")]
    assert (
        problem.message == f"runbook name 'service-down' is already used by {tmp_path / 'a.yaml'}"
    )


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({}, "the catalog directory has no runbook files (*.yaml, *.yml)"),
        (None, "the catalog directory does not exist"),
    ],
)
def test_an_empty_or_missing_directory_is_a_problem(
    tmp_path: Path, files: dict[str, str] | None, message: str
) -> None:
    directory = tmp_path / "catalog"
    if files is not None:
        directory.mkdir()
        write_runbook(directory, "notes.txt", "not a runbook")

    (problem,) = validate_catalog(directory)

    assert (problem.file, problem.line, problem.message) == (str(directory), None, message)


def test_load_catalog_raises_with_every_problem(tmp_path: Path) -> None:
    write_runbook(tmp_path, "a.yaml", VALID.replace("10m", "soon"))
    write_runbook(tmp_path, "b.yaml", "name: [\n")

    with pytest.raises(CatalogError) as raised:
        load_catalog(tmp_path)

    assert where(list(raised.value.problems)) == [
        ("a.yaml", 13, "cooldown.duration"),
        ("b.yaml", 2, ""),
    ]
    assert f"{tmp_path / 'a.yaml'}:13: cooldown.duration: 'soon' is not a" in str(raised.value)


def test_a_problem_reads_as_file_line_field_message_and_fix() -> None:
    problem = CatalogProblem(
        "c/a.yaml", 3, "deployment", "deployment 'x/y' does not exist (yet)", "create it"
    )

    assert str(problem) == "c/a.yaml:3: deployment 'x/y' does not exist (yet) (fix: create it)"
