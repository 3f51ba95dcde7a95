"""Cleanup parameters: which targets an operator may set, the messages for those that clash."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from flows.conntrack.parameters import CleanupParameters
from flows.conntrack.plan import Target


def test_defaults_clean_every_service_after_asking() -> None:
    params = CleanupParameters()

    assert (params.dry_run, params.auto_approve, params.full_flush) == (False, False, False)
    assert params.approval_timeout_seconds is None  # the runbook's timeout
    assert params.target == Target()


@pytest.mark.parametrize(
    ("fields", "target", "description"),
    [
        pytest.param({}, Target(), "stale UDP entries of every Service", id="nothing"),
        pytest.param(
            {"namespace": "shop"},
            Target(namespace="shop"),
            "stale UDP entries of every Service in shop",
            id="namespace only",
        ),
        pytest.param(
            {"namespace": "shop", "service": "web"},
            Target("shop", "web"),
            "stale entries of Service shop/web",
            id="namespace and service",
        ),
        pytest.param(
            {"pod_ip": "10.244.1.9"},
            Target(pod_ip="10.244.1.9"),
            "entries answered by Pod IP 10.244.1.9",
            id="pod ip v4",
        ),
        pytest.param(
            {"pod_ip": "fd00:10:244::9"},
            Target(pod_ip="fd00:10:244::9"),
            "entries answered by Pod IP fd00:10:244::9",
            id="pod ip v6",
        ),
        pytest.param(
            {"namespace": "shop", "pod_ip": "10.244.1.9"},
            Target("shop", None, "10.244.1.9"),
            "entries answered by Pod IP 10.244.1.9",
            id="pod ip with namespace",
        ),
        pytest.param(
            {"full_flush": True},
            Target(full_flush=True),
            "full flush on every node",
            id="full flush alone",
        ),
        pytest.param(
            {"namespace": "shop", "service": "web", "dry_run": True, "auto_approve": True},
            Target("shop", "web"),
            "stale entries of Service shop/web",
            id="dry run drill",
        ),
    ],
)
def test_valid_parameters_give_their_target_and_describe_it(
    fields: dict[str, Any], target: Target, description: str
) -> None:
    params = CleanupParameters.model_validate(fields)

    assert params.target == target
    assert params.describe() == description


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        pytest.param(
            {"service": "web"},
            "service needs namespace: set namespace to the Service's namespace",
            id="service without namespace",
        ),
        pytest.param(
            {"pod_ip": "10.244.1.999"},
            "pod_ip '10.244.1.999' is not an IP address",
            id="pod ip out of range",
        ),
        pytest.param(
            {"pod_ip": "web-7d9f"}, "pod_ip 'web-7d9f' is not an IP address", id="pod name"
        ),
        pytest.param(
            {"pod_ip": "10.244.1.0/24"},
            "pod_ip '10.244.1.0/24' is not an IP address",
            id="a CIDR",
        ),
        pytest.param(
            {"namespace": "shop", "service": "web", "pod_ip": "10.244.1.9"},
            "set pod_ip or service, not both",
            id="pod ip with service",
        ),
        pytest.param(
            {"namespace": "shop", "service": "web", "full_flush": True},
            "full_flush empties whole tables: leave service and pod_ip empty",
            id="full flush with service",
        ),
        pytest.param(
            {"pod_ip": "10.244.1.9", "full_flush": True},
            "full_flush empties whole tables: leave service and pod_ip empty",
            id="full flush with pod ip",
        ),
        pytest.param(
            {"approval_timeout_seconds": 0},
            "approval_timeout_seconds\n  Input should be greater than 0",
            id="no time to approve",
        ),
        pytest.param(
            {"approval_timeout_seconds": 86401},
            "approval_timeout_seconds\n  Input should be less than or equal to 86400",
            id="more than a day to approve",
        ),
    ],
)
def test_invalid_parameters_are_rejected_naming_the_field_and_the_fix(
    fields: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValidationError) as raised:
        CleanupParameters.model_validate(fields)

    assert message in str(raised.value)


@pytest.mark.parametrize("blank", ["", "  "])
def test_a_blank_field_from_the_ui_form_means_unset(blank: str) -> None:
    params = CleanupParameters(namespace=blank, service=blank, pod_ip=blank)

    assert params.describe() == "stale UDP entries of every Service"
    assert params.target == Target()


def test_a_pod_ip_is_kept_in_the_canonical_form_conntrack_prints() -> None:
    assert CleanupParameters(pod_ip="FD00:0::5").pod_ip == "fd00::5"
