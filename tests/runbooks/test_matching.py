"""Matching alerts to runbooks: equality, regex full-match, statuses, missing labels, manual."""

from __future__ import annotations

import pytest

from runbooks.matching import UnmatchedReason, match_alert
from tests.runbooks.builders import catalog, runbook

PROD_ONLY = runbook(
    name="prod-service-down",
    match={"labels": {"alertname": "ServiceDown"}, "labels_regex": {"namespace": "prod-.*"}},
)


@pytest.mark.parametrize(
    ("labels", "matched"),
    [
        ({"alertname": "ServiceDown", "namespace": "prod-eu", "service": "a"}, True),
        ({"alertname": "ServiceDown", "namespace": "prod-", "service": "a"}, True),
        # Full-match, as Alertmanager anchors regexes: a prefix or suffix is not enough.
        ({"alertname": "ServiceDown", "namespace": "preprod-eu", "service": "a"}, False),
        ({"alertname": "ServiceDown", "namespace": "prod", "service": "a"}, False),
        # Every condition must hold: the regex alone does not start the runbook.
        ({"alertname": "ServiceUp", "namespace": "prod-eu", "service": "a"}, False),
        ({"alertname": "ServiceDown", "service": "a"}, False),
    ],
)
def test_equality_and_regex_must_all_hold(labels: dict[str, str], matched: bool) -> None:
    result = match_alert(catalog(PROD_ONLY), labels, "firing")

    assert result.matched is matched


@pytest.mark.parametrize(
    ("matcher", "labels", "matched"),
    [
        # As in Alertmanager, an absent label is the empty string.
        ({"labels": {"alertname": "X", "team": ""}}, {"alertname": "X"}, True),
        ({"labels_regex": {"alertname": "X|Y", "team": ".*"}}, {"alertname": "Y"}, True),
        ({"labels_regex": {"alertname": "X|Y", "team": ".+"}}, {"alertname": "Y"}, False),
        ({"labels_regex": {"alertname": "^X$"}}, {"alertname": "X"}, True),
        ({"labels_regex": {"alertname": "X"}}, {"alertname": "XX"}, False),
    ],
)
def test_absent_labels_match_as_empty_strings(
    matcher: dict[str, dict[str, str]], labels: dict[str, str], matched: bool
) -> None:
    book = runbook(match=matcher, parameters={}, concurrency_key="all")

    assert match_alert(catalog(book), labels, "firing").matched is matched


@pytest.mark.parametrize(
    ("statuses", "status", "matched"),
    [
        (None, "firing", True),
        (None, "resolved", False),
        (["resolved"], "resolved", True),
        (["resolved"], "firing", False),
        (["firing", "resolved"], "resolved", True),
        (["firing"], "pending", False),
    ],
)
def test_statuses_decide_which_alert_states_start_the_runbook(
    statuses: list[str] | None, status: str, matched: bool
) -> None:
    book = runbook() if statuses is None else runbook(statuses=statuses)
    labels = {"alertname": "ServiceDown", "namespace": "prod", "service": "checkout"}

    result = match_alert(catalog(book), labels, status)

    assert result.matched is matched
    expected = () if matched else (UnmatchedReason.STATUS_NOT_HANDLED,)
    assert result.unmatched_reasons == expected


def test_a_missing_required_label_rejects_the_match_and_names_the_label() -> None:
    result = match_alert(
        catalog(runbook()), {"alertname": "ServiceDown", "namespace": "p"}, "firing"
    )

    assert not result.matched
    assert result.unmatched_reasons == (UnmatchedReason.MISSING_LABEL,)
    (rejection,) = result.rejections
    assert rejection.runbook == "service-down"
    assert rejection.detail == "label 'service' or 'endpoint' is missing (parameter 'service')"


def test_an_empty_label_value_counts_as_missing() -> None:
    labels = {"alertname": "ServiceDown", "namespace": "prod", "service": ""}

    result = match_alert(catalog(runbook()), labels, "firing")

    assert result.unmatched_reasons == (UnmatchedReason.MISSING_LABEL,)


def test_an_alert_no_matcher_holds_for_is_reported_as_no_runbook() -> None:
    result = match_alert(catalog(runbook()), {"alertname": "DiskFull"}, "firing")

    assert result.matches == ()
    assert result.rejections == ()
    assert result.unmatched_reasons == (UnmatchedReason.NO_RUNBOOK,)
    assert result.describe() == "no runbook matches alertname='DiskFull'"


def test_manual_only_runbooks_never_match_even_the_alert_they_are_about() -> None:
    rollback = runbook(
        name="kube-proxy-rollback",
        manual_only=True,
        match=None,
        parameters={},
        deployment="kube-proxy-rollback/kube-proxy-rollback",
        concurrency_key="kube-proxy",
    )

    result = match_alert(catalog(rollback), {"alertname": "KubeProxyDown"}, "firing")

    assert result.unmatched_reasons == (UnmatchedReason.NO_RUNBOOK,)


def test_every_runbook_whose_matcher_holds_starts_in_catalog_order() -> None:
    broad = runbook(name="any-service-down")
    labels = {"alertname": "ServiceDown", "namespace": "prod-eu", "service": "checkout"}

    result = match_alert(catalog(broad, PROD_ONLY), labels, "firing")

    assert [match.runbook for match in result.matches] == ["any-service-down", "prod-service-down"]


def test_a_match_next_to_a_rejection_still_counts_as_matched() -> None:
    needs_instance = runbook(
        name="node-check",
        parameters={"instance": {"from_label": "instance"}},
        concurrency_key="node/{instance}",
    )
    labels = {"alertname": "ServiceDown", "namespace": "prod", "service": "checkout"}

    result = match_alert(catalog(runbook(), needs_instance), labels, "firing")

    assert [match.runbook for match in result.matches] == ["service-down"]
    assert [rejection.runbook for rejection in result.rejections] == ["node-check"]
    assert result.unmatched_reasons == ()
    assert result.describe() == (
        "service-down -> service-checklist/service-checklist; "
        "node-check: missing_label (label 'instance' is missing (parameter 'instance'))"
    )
