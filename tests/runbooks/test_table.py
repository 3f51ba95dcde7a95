"""The `runbooks list` table."""

from __future__ import annotations

import re

from runbooks.approval import ApprovalPolicy
from runbooks.loader import load_catalog
from runbooks.table import describe_approval, format_table
from tests.runbooks.builders import catalog, runbook


def test_the_table_shows_name_match_deployment_approval_and_manual_only() -> None:
    books = catalog(
        runbook(
            match={
                "labels": {"alertname": "ServiceDown"},
                "labels_regex": {"namespace": "prod-.*"},
            },
            statuses=["firing", "resolved"],
        ),
        runbook(
            name="kube-proxy-rollback",
            manual_only=True,
            match=None,
            parameters={},
            deployment="kube-proxy-rollback/kube-proxy-rollback",
            concurrency_key="kube-proxy",
        ),
    )

    lines = format_table(books).splitlines()

    assert [re.split(r"\s{2,}", line) for line in lines] == [
        ["NAME", "MATCH", "DEPLOYMENT", "APPROVAL", "MANUAL-ONLY"],
        [
            "service-down",
            '{alertname="ServiceDown", namespace=~"prod-.*"} [firing,resolved]',
            "service-checklist/service-checklist",
            "auto: diagnose; rest required",
            "no",
        ],
        [
            "kube-proxy-rollback",
            "-",
            "kube-proxy-rollback/kube-proxy-rollback",
            "auto: diagnose; rest required",
            "yes",
        ],
    ]
    # Columns are aligned: every cell starts where its header does.
    starts = [lines[0].index(header) for header in ("MATCH", "DEPLOYMENT", "APPROVAL")]
    assert [
        lines[2].index(cell) + 2 for cell in ("  -", "  kube-proxy-rollback/", "  auto:")
    ] == starts


def test_the_approval_summary_names_unattended_actions_and_drills() -> None:
    policy = ApprovalPolicy.model_validate(
        {
            "actions": {"diagnose": "required", "restart_kube_proxy_pod": "auto"},
            "auto_approve_for_drills": True,
        }
    )

    assert describe_approval(policy) == "auto: restart_kube_proxy_pod; rest required; drills: auto"
    assert (
        describe_approval(ApprovalPolicy.model_validate({"actions": {"diagnose": "required"}}))
        == "all required"
    )


def test_the_approval_summary_names_waits_approvers_and_four_eyes_that_differ() -> None:
    policy = ApprovalPolicy.model_validate(
        {
            "timeout": "10m",
            "timeouts": {"flush_conntrack": "5m"},
            "approvers": {"users": ["U0ALICE"], "groups": ["S0ONCALL"]},
            "four_eyes": {"flush_conntrack": "two_approvers"},
        }
    )

    assert describe_approval(policy) == (
        "auto: diagnose; rest required; wait 10m, flush_conntrack 5m; "
        "approvers: U0ALICE, S0ONCALL; four-eyes: flush_conntrack two_approvers"
    )


def test_the_shipped_catalog_lists_one_row_per_runbook() -> None:
    catalog_ = load_catalog()

    lines = format_table(catalog_).splitlines()

    assert len(lines) == 1 + len(catalog_)
    assert [line.split()[0] for line in lines[1:]] == [r.name for r in catalog_]
