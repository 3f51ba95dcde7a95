"""Resolving flow parameters, concurrency keys and cooldown keys of a match."""

from __future__ import annotations

from typing import Any

import pytest

from runbooks.fields import Scalar
from runbooks.matching import Match, Rejection, UnmatchedReason, match_alert, resolve_manual_run
from tests.runbooks.builders import catalog, runbook


def _only_match(parameters: dict[str, Any], labels: dict[str, str]) -> Match:
    book = runbook(parameters=parameters, concurrency_key="k")
    (match,) = match_alert(catalog(book), {"alertname": "ServiceDown", **labels}, "firing").matches
    return match


@pytest.mark.parametrize(
    ("source", "labels", "expected"),
    [
        ({"from_label": "service"}, {"service": "checkout"}, "checkout"),
        ({"from_label": ["service", "endpoint"]}, {"endpoint": "cart"}, "cart"),
        # First present wins, in the order written.
        ({"from_label": ["service", "endpoint"]}, {"service": "a", "endpoint": "b"}, "a"),
        ({"from_label": ["endpoint", "service"]}, {"service": "a", "endpoint": "b"}, "b"),
        ({"from_label": "service", "default": "all"}, {}, "all"),
        ({"from_label": "service", "default": "all"}, {"service": "x"}, "x"),
        ("cluster", {"service": "x"}, "cluster"),
        (3, {}, 3),
        (True, {}, True),
        ({"value": "constant"}, {}, "constant"),
    ],
)
def test_parameters_come_from_constants_or_the_first_present_label(
    source: Any, labels: dict[str, str], expected: Scalar
) -> None:
    match = _only_match({"target": source}, labels)

    assert match.parameters == {"target": expected}


def test_an_optional_label_parameter_is_left_out_when_absent() -> None:
    match = _only_match({"node": {"from_label": "node", "required": False}}, {})

    assert match.parameters == {}


def test_templates_render_the_concurrency_and_cooldown_keys() -> None:
    book = runbook(cooldown={"duration": "1h30m", "target": "{namespace}/{service}"})
    labels = {"alertname": "ServiceDown", "namespace": "prod", "endpoint": "checkout"}

    (match,) = match_alert(catalog(book), labels, "firing").matches

    assert match.deployment == "service-checklist/service-checklist"
    assert match.parameters == {"namespace": "prod", "service": "checkout"}
    assert match.concurrency_key == "service/prod/checkout"
    assert match.cooldown_key == "service-down:prod/checkout"
    assert match.cooldown_seconds == 5400


def test_a_runbook_without_cooldown_has_no_cooldown_key() -> None:
    labels = {"alertname": "ServiceDown", "namespace": "prod", "service": "checkout"}

    (match,) = match_alert(catalog(runbook()), labels, "firing").matches

    assert (match.cooldown_key, match.cooldown_seconds) == (None, 0)


def _conntrack_cleanup() -> Any:
    return runbook(
        name="conntrack-cleanup",
        manual_only=True,
        match=None,
        deployment="conntrack-cleanup/conntrack-cleanup",
        parameters={"mode": "stale"},
        cooldown={"duration": "5m", "target": "{namespace}/{service}"},
        concurrency_key="conntrack/{namespace}",
    )


def test_a_manual_run_takes_the_operators_parameters_over_the_runbook_constants() -> None:
    result = resolve_manual_run(
        _conntrack_cleanup(), {"namespace": "prod", "service": "dns", "mode": "pod-gone"}
    )

    assert isinstance(result, Match)
    assert result.parameters == {"mode": "pod-gone", "namespace": "prod", "service": "dns"}
    assert result.concurrency_key == "conntrack/prod"
    assert result.cooldown_key == "conntrack-cleanup:prod/dns"


def test_a_manual_run_missing_a_template_parameter_is_rejected_with_its_name() -> None:
    result = resolve_manual_run(_conntrack_cleanup(), {"namespace": "prod"})

    assert result == Rejection(
        "conntrack-cleanup",
        UnmatchedReason.MISSING_PARAMETER,
        "cooldown.target '{namespace}/{service}' needs parameter(s) service",
    )


def test_an_alert_runbook_started_by_hand_needs_its_label_parameters_supplied() -> None:
    result = resolve_manual_run(runbook(), {"namespace": "prod"})

    assert isinstance(result, Rejection)
    assert (
        result.detail
        == "concurrency_key 'service/{namespace}/{service}' needs parameter(s) service"
    )
