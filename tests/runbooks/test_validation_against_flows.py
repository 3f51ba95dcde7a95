"""Catalog validation against the flows: deployments that exist, parameters they accept."""

from __future__ import annotations

from pathlib import Path

import pytest

from runbooks.loader import load_catalog
from runbooks.problems import CatalogError
from runbooks.validation import ALERT_IDENTITY_PARAMETERS, validate_catalog
from tests.runbooks.catalog_files import CHECKLIST, MANUAL, VALID, where, write_runbook


def test_a_deployment_that_does_not_exist_yet_is_named_with_the_known_ones(tmp_path: Path) -> None:
    write_runbook(
        tmp_path, "r.yaml", VALID.replace("service-checklist/service-checklist", "checklist/v2")
    )

    (problem,) = validate_catalog(tmp_path, known_deployments=CHECKLIST)

    assert where([problem]) == [("r.yaml", 6, "deployment")]
    assert problem.message == "deployment 'checklist/v2' does not exist (yet)"
    assert problem.fix == (
        "create and register that deployment, or use one of: service-checklist/service-checklist"
    )


def test_an_alert_runbook_with_a_missing_deployment_blocks_loading(tmp_path: Path) -> None:
    write_runbook(
        tmp_path, "r.yaml", VALID.replace("service-checklist/service-checklist", "checklist/v2")
    )

    (problem,) = validate_catalog(tmp_path, known_deployments=CHECKLIST)

    assert problem.blocking
    with pytest.raises(CatalogError):
        load_catalog(tmp_path, known_deployments=CHECKLIST)


def test_a_manual_runbook_whose_flow_has_not_landed_is_a_warning_that_still_loads(
    tmp_path: Path,
) -> None:
    write_runbook(tmp_path, "c.yaml", MANUAL)

    (problem,) = validate_catalog(tmp_path, known_deployments=CHECKLIST)

    assert not problem.blocking
    assert str(problem).startswith(f"{tmp_path / 'c.yaml'}:4: warning: deployment")
    assert [r.name for r in load_catalog(tmp_path, known_deployments=CHECKLIST)] == [
        "conntrack-cleanup"
    ]


def test_an_alert_runbooks_flow_must_accept_the_alerts_identity(tmp_path: Path) -> None:
    write_runbook(tmp_path, "r.yaml", VALID)
    known = {"service-checklist/service-checklist": {"namespace", "service", "alertname"}}

    problems = validate_catalog(tmp_path, known_deployments=known)

    identity = [p for p in problems if "identity" in p.message]
    assert [(p.field_path, p.blocking) for p in identity] == [("deployment", True)]
    assert "(alert_fingerprint, alert_starts_at)" in identity[0].message


def test_parameters_the_deployment_does_not_accept_are_problems(tmp_path: Path) -> None:
    write_runbook(tmp_path, "r.yaml", VALID)
    known = {
        "service-checklist/service-checklist": {"namespace", "svc", *ALERT_IDENTITY_PARAMETERS}
    }

    (problem,) = validate_catalog(tmp_path, known_deployments=known)

    assert where([problem]) == [("r.yaml", 10, "parameters.service")]
    assert problem.message == (
        "parameter 'service' is not accepted by deployment 'service-checklist/service-checklist'"
    )
    assert problem.fix == (
        "remove it or rename it to one of: "
        "alert_fingerprint, alert_starts_at, alertname, namespace, svc"
    )


def test_manual_templates_may_use_parameters_the_flow_accepts(tmp_path: Path) -> None:
    write_runbook(tmp_path, "c.yaml", MANUAL)
    known = {"conntrack-cleanup/conntrack-cleanup": {"namespace", "pod_ip"}}

    assert validate_catalog(tmp_path, known_deployments=known) == []


def test_manual_templates_using_parameters_the_flow_lacks_are_problems(tmp_path: Path) -> None:
    write_runbook(tmp_path, "c.yaml", MANUAL)
    known = {"conntrack-cleanup/conntrack-cleanup": {"namespace", "service"}}

    (problem,) = validate_catalog(tmp_path, known_deployments=known)

    assert where([problem]) == [("c.yaml", 5, "concurrency_key")]
    assert (
        "uses {pod_ip}, which deployment 'conntrack-cleanup/conntrack-cleanup'" in problem.message
    )


def test_manual_runbooks_have_no_match(tmp_path: Path) -> None:
    write_runbook(tmp_path, "c.yaml", MANUAL + "match:\n  labels: {alertname: KubeProxyDown}\n")

    (problem,) = validate_catalog(tmp_path)

    assert where([problem]) == [("c.yaml", 6, "match")]
    assert problem.message == "match: a manual_only runbook has a match, which would never be used"
    assert problem.fix == "remove match, or set manual_only: false"


def test_manual_runbooks_cannot_read_labels(tmp_path: Path) -> None:
    write_runbook(
        tmp_path, "c.yaml", MANUAL + "parameters:\n  namespace:\n    from_label: namespace\n"
    )

    (problem,) = validate_catalog(tmp_path)

    assert where([problem]) == [("c.yaml", 8, "parameters.namespace.from_label")]
