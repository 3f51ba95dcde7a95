"""The shipped catalog loads, and real Alertmanager payloads start the expected runbooks."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from runbooks import loader
from runbooks.approval import ActionKind, ApprovalMode
from runbooks.loader import SHIPPED_CATALOG, load_catalog
from runbooks.matching import UnmatchedReason, match_alert
from runbooks.validation import ALERT_IDENTITY_PARAMETERS, validate_catalog

FIXTURES = Path(__file__).with_name("fixtures")

# The flow parameters the catalog relies on; the engine injects the real ones from the flows.
DEPLOYMENTS = {
    "service-checklist/service-checklist": {
        "scope",
        "namespace",
        "service",
        "instance",
        *ALERT_IDENTITY_PARAMETERS,
    },
    "kube-proxy-rollback/kube-proxy-rollback": set(),
    "conntrack-cleanup/conntrack-cleanup": {"namespace", "service", "pod_ip", "full_flush"},
}


def _alerts(fixture: str) -> list[dict[str, Any]]:
    payload = json.loads((FIXTURES / fixture).read_text(encoding="utf-8"))
    alerts: list[dict[str, Any]] = payload["body"]["alerts"]
    return alerts


def test_the_shipped_catalog_is_valid_against_the_deployments_it_targets() -> None:
    assert validate_catalog(SHIPPED_CATALOG, known_deployments=DEPLOYMENTS) == []


def test_the_shipped_catalog_holds_the_alert_and_manual_runbooks() -> None:
    catalog = load_catalog()

    assert sorted((r.name, r.manual_only) for r in catalog) == [
        ("cluster-dns-down", False),
        ("conntrack-cleanup", True),
        ("conntrack-table-nearly-full", False),
        ("ipvs-backend-down", False),
        ("kube-proxy-down", False),
        ("kube-proxy-network-programming-latency", False),
        ("kube-proxy-node-down", False),
        ("kube-proxy-rollback", True),
        ("kube-proxy-rules-stale", False),
        ("service-down", False),
    ]
    assert (
        catalog.get("kube-proxy-rollback").deployment == "kube-proxy-rollback/kube-proxy-rollback"
    )
    assert catalog.get("conntrack-cleanup").deployment == "conntrack-cleanup/conntrack-cleanup"


def test_the_firing_sample_starts_the_service_checklist_for_that_service() -> None:
    (alert,) = _alerts("alertmanager_webhook_firing.json")

    result = match_alert(load_catalog(), alert["labels"], alert["status"])

    (match,) = result.matches
    assert match.runbook == "service-down"
    assert match.deployment == "service-checklist/service-checklist"
    assert match.parameters == {"scope": "service", "namespace": "prod", "service": "checkout"}
    assert match.concurrency_key == "service/prod/checkout"
    assert (match.cooldown_key, match.cooldown_seconds) == ("service-down:prod/checkout", 600)


def test_the_resolved_sample_starts_nothing_and_says_why() -> None:
    (alert,) = _alerts("alertmanager_webhook_resolved.json")

    result = match_alert(load_catalog(), alert["labels"], alert["status"])

    assert result.unmatched_reasons == (UnmatchedReason.STATUS_NOT_HANDLED,)


def test_a_grouped_sample_yields_one_target_for_both_alerts() -> None:
    catalog = load_catalog()

    keys = {
        match.concurrency_key
        for alert in _alerts("alertmanager_webhook_group_2alerts.json")
        for match in match_alert(catalog, alert["labels"], alert["status"]).matches
    }

    # Two pods of one Service: one target, so the dispatcher runs the checklist once.
    assert keys == {"service/prod/grp-1795626958"}


@pytest.mark.parametrize(
    ("labels", "runbook", "parameters", "concurrency_key"),
    [
        (
            {"alertname": "ServiceDown", "namespace": "shop", "endpoint": "cart"},
            "service-down",
            {"scope": "service", "namespace": "shop", "service": "cart"},
            "service/shop/cart",
        ),
        (
            {
                "alertname": "ServiceHighLatency",
                "instance": "10.0.0.7:10249",
                "namespace": "kube-system",
            },
            "kube-proxy-network-programming-latency",
            {"scope": "node", "instance": "10.0.0.7:10249"},
            "kube-proxy/node/10.0.0.7:10249",
        ),
        (
            {"alertname": "IPVSBackendDown", "instance": "10.0.0.8:9100"},
            "ipvs-backend-down",
            {"scope": "node", "instance": "10.0.0.8:9100"},
            "kube-proxy/node/10.0.0.8:9100",
        ),
        (
            {"alertname": "KubeProxyDown", "severity": "critical", "job": "kube-proxy"},
            "kube-proxy-down",
            {"scope": "cluster"},
            "kube-proxy",
        ),
    ],
)
def test_each_handbook_alert_starts_the_checklist_with_its_scope(
    labels: dict[str, str], runbook: str, parameters: dict[str, str], concurrency_key: str
) -> None:
    (match,) = match_alert(load_catalog(), labels, "firing").matches

    assert match.runbook == runbook
    assert match.deployment == "service-checklist/service-checklist"
    assert match.parameters == parameters
    assert match.concurrency_key == concurrency_key


def test_a_cluster_wide_checklist_and_a_rollback_share_the_kube_proxy_lock() -> None:
    catalog = load_catalog()

    assert catalog.get("kube-proxy-down").concurrency_key == "kube-proxy"
    assert catalog.get("kube-proxy-rollback").concurrency_key == "kube-proxy"


def test_no_shipped_runbook_restarts_or_rolls_back_kube_proxy_unattended_outside_drills() -> None:
    for runbook in load_catalog():
        for action in ActionKind:
            if action is not ActionKind.DIAGNOSE:
                assert runbook.approval.mode_for(action) is ApprovalMode.REQUIRED, (
                    runbook.name,
                    action,
                )


def test_the_shipped_catalog_is_read_again_only_once_one_of_its_files_changed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shipped = tmp_path / "catalog"
    shutil.copytree(SHIPPED_CATALOG, shipped)
    monkeypatch.setattr(loader, "SHIPPED_CATALOG", shipped)

    first = load_catalog()
    assert load_catalog() is first

    runbook = shipped / "service-down.yaml"
    runbook.write_text(runbook.read_text(encoding="utf-8") + "# edited\n", encoding="utf-8")
    assert load_catalog() is not first
    assert [r.name for r in load_catalog()] == [r.name for r in first]
