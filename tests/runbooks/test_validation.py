"""Catalog validation: every problem names its file, line, field and fix."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from runbooks.loader import load_catalog
from runbooks.problems import CatalogError, CatalogProblem
from runbooks.validation import ALERT_IDENTITY_PARAMETERS, validate_catalog

VALID = """\
name: service-down
description: Service has no ready endpoint.
match:
  labels:
    alertname: ServiceDown
deployment: service-checklist/service-checklist
parameters:
  namespace:
    from_label: namespace
  service:
    from_label: [service, endpoint]
cooldown:
  duration: 10m
  target: "{namespace}/{service}"
concurrency_key: "service/{namespace}/{service}"
"""

CHECKLIST = {
    "service-checklist/service-checklist": {
        "namespace",
        "service",
        "scope",
        *ALERT_IDENTITY_PARAMETERS,
    }
}


def _write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def _where(problems: list[CatalogProblem]) -> list[tuple[str, int | None, str]]:
    return [(Path(p.file).name, p.line, p.field_path) for p in problems]


def test_a_valid_catalog_has_no_problems(tmp_path: Path) -> None:
    _write(tmp_path, "service-down.yaml", VALID)

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
    _write(tmp_path, "service-down.yaml", VALID.replace(old, new, 1))

    (problem,) = validate_catalog(tmp_path)

    assert (problem.file, problem.line, problem.field_path) == (
        str(tmp_path / "service-down.yaml"),
        line,
        field_path,
    )
    assert message_part in problem.message
    assert fix_part in problem.fix


def test_a_yaml_syntax_error_is_reported_with_its_line(tmp_path: Path) -> None:
    _write(tmp_path, "broken.yaml", "name: a\nmatch:\n  labels: {alertname: X\ndeployment: a/b\n")

    (problem,) = validate_catalog(tmp_path)

    assert _where([problem]) == [("broken.yaml", 4, "")]
    assert problem.message.startswith("YAML syntax error")


def test_a_key_written_twice_is_a_problem_at_the_repeat(tmp_path: Path) -> None:
    _write(tmp_path, "service-down.yaml", VALID + "deployment: other/other\n")

    (problem,) = validate_catalog(tmp_path)

    assert _where([problem]) == [("service-down.yaml", 16, "deployment")]
    assert (
        problem.message
        == "deployment is written twice (first on line 6); YAML would keep only this one"
    )


def test_a_file_that_is_not_a_mapping_is_a_problem(tmp_path: Path) -> None:
    _write(tmp_path, "list.yml", "- name: a\n")

    assert _where(validate_catalog(tmp_path)) == [("list.yml", 1, "")]


def test_every_problem_of_a_file_is_reported_at_once(tmp_path: Path) -> None:
    text = VALID.replace("name: service-down", "name: Service Down").replace("10m", "soon")
    _write(tmp_path, "service-down.yaml", text)

    assert _where(validate_catalog(tmp_path)) == [
        ("service-down.yaml", 1, "name"),
        ("service-down.yaml", 13, "cooldown.duration"),
    ]


def test_duplicate_runbook_names_are_reported_on_the_second_file(tmp_path: Path) -> None:
    _write(tmp_path, "a.yaml", VALID)
    _write(tmp_path, "b.yaml", "# the same runbook, copied\n" + VALID)

    (problem,) = validate_catalog(tmp_path)

    assert _where([problem]) == [("b.yaml", 2, "name")]
    assert (
        problem.message == f"runbook name 'service-down' is already used by {tmp_path / 'a.yaml'}"
    )


def test_a_deployment_that_does_not_exist_yet_is_named_with_the_known_ones(tmp_path: Path) -> None:
    _write(tmp_path, "r.yaml", VALID.replace("service-checklist/service-checklist", "checklist/v2"))

    (problem,) = validate_catalog(tmp_path, known_deployments=CHECKLIST)

    assert _where([problem]) == [("r.yaml", 6, "deployment")]
    assert problem.message == "deployment 'checklist/v2' does not exist (yet)"
    assert problem.fix == (
        "create and register that deployment, or use one of: service-checklist/service-checklist"
    )


def test_an_alert_runbook_with_a_missing_deployment_blocks_loading(tmp_path: Path) -> None:
    _write(tmp_path, "r.yaml", VALID.replace("service-checklist/service-checklist", "checklist/v2"))

    (problem,) = validate_catalog(tmp_path, known_deployments=CHECKLIST)

    assert problem.blocking
    with pytest.raises(CatalogError):
        load_catalog(tmp_path, known_deployments=CHECKLIST)


def test_a_manual_runbook_whose_flow_has_not_landed_is_a_warning_that_still_loads(
    tmp_path: Path,
) -> None:
    _write(tmp_path, "c.yaml", MANUAL)

    (problem,) = validate_catalog(tmp_path, known_deployments=CHECKLIST)

    assert not problem.blocking
    assert str(problem).startswith(f"{tmp_path / 'c.yaml'}:4: warning: deployment")
    assert [r.name for r in load_catalog(tmp_path, known_deployments=CHECKLIST)] == [
        "conntrack-cleanup"
    ]


def test_an_alert_runbooks_flow_must_accept_the_alerts_identity(tmp_path: Path) -> None:
    _write(tmp_path, "r.yaml", VALID)
    known = {"service-checklist/service-checklist": {"namespace", "service", "alertname"}}

    problems = validate_catalog(tmp_path, known_deployments=known)

    identity = [p for p in problems if "identity" in p.message]
    assert [(p.field_path, p.blocking) for p in identity] == [("deployment", True)]
    assert "(alert_fingerprint, alert_starts_at)" in identity[0].message


def test_parameters_the_deployment_does_not_accept_are_problems(tmp_path: Path) -> None:
    _write(tmp_path, "r.yaml", VALID)
    known = {
        "service-checklist/service-checklist": {"namespace", "svc", *ALERT_IDENTITY_PARAMETERS}
    }

    (problem,) = validate_catalog(tmp_path, known_deployments=known)

    assert _where([problem]) == [("r.yaml", 10, "parameters.service")]
    assert problem.message == (
        "parameter 'service' is not accepted by deployment 'service-checklist/service-checklist'"
    )
    assert problem.fix == (
        "remove it or rename it to one of: "
        "alert_fingerprint, alert_starts_at, alertname, namespace, svc"
    )


MANUAL = """\
name: conntrack-cleanup
description: Delete stale conntrack entries.
manual_only: true
deployment: conntrack-cleanup/conntrack-cleanup
concurrency_key: "conntrack/{namespace}/{pod_ip}"
"""


def test_manual_templates_may_use_parameters_the_flow_accepts(tmp_path: Path) -> None:
    _write(tmp_path, "c.yaml", MANUAL)
    known = {"conntrack-cleanup/conntrack-cleanup": {"namespace", "pod_ip"}}

    assert validate_catalog(tmp_path, known_deployments=known) == []


def test_manual_templates_using_parameters_the_flow_lacks_are_problems(tmp_path: Path) -> None:
    _write(tmp_path, "c.yaml", MANUAL)
    known = {"conntrack-cleanup/conntrack-cleanup": {"namespace", "service"}}

    (problem,) = validate_catalog(tmp_path, known_deployments=known)

    assert _where([problem]) == [("c.yaml", 5, "concurrency_key")]
    assert (
        "uses {pod_ip}, which deployment 'conntrack-cleanup/conntrack-cleanup'" in problem.message
    )


def test_manual_runbooks_have_no_match(tmp_path: Path) -> None:
    _write(tmp_path, "c.yaml", MANUAL + "match:\n  labels: {alertname: KubeProxyDown}\n")

    (problem,) = validate_catalog(tmp_path)

    assert _where([problem]) == [("c.yaml", 6, "match")]
    assert problem.message == "match: a manual_only runbook has a match, which would never be used"
    assert problem.fix == "remove match, or set manual_only: false"


def test_manual_runbooks_cannot_read_labels(tmp_path: Path) -> None:
    _write(tmp_path, "c.yaml", MANUAL + "parameters:\n  namespace:\n    from_label: namespace\n")

    (problem,) = validate_catalog(tmp_path)

    assert _where([problem]) == [("c.yaml", 8, "parameters.namespace.from_label")]


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
        _write(directory, "notes.txt", "not a runbook")

    (problem,) = validate_catalog(directory)

    assert (problem.file, problem.line, problem.message) == (str(directory), None, message)


def test_load_catalog_raises_with_every_problem(tmp_path: Path) -> None:
    _write(tmp_path, "a.yaml", VALID.replace("10m", "soon"))
    _write(tmp_path, "b.yaml", "name: [\n")

    with pytest.raises(CatalogError) as raised:
        load_catalog(tmp_path)

    assert _where(list(raised.value.problems)) == [
        ("a.yaml", 13, "cooldown.duration"),
        ("b.yaml", 2, ""),
    ]
    assert f"{tmp_path / 'a.yaml'}:13: cooldown.duration: 'soon' is not a" in str(raised.value)


def test_a_problem_reads_as_file_line_field_message_and_fix() -> None:
    problem = CatalogProblem(
        "c/a.yaml", 3, "deployment", "deployment 'x/y' does not exist (yet)", "create it"
    )

    assert str(problem) == "c/a.yaml:3: deployment 'x/y' does not exist (yet) (fix: create it)"
