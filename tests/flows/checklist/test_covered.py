"""What the owner checks of the alerts its incident covered: each target once, and no more."""

from __future__ import annotations

from typing import Any

import pytest

from flows.checklist.covered import Target, targets_of
from tests.flows.incident.test_records import joined


@pytest.mark.parametrize(
    ("parameters", "target"),
    [
        ({"namespace": "shop", "service": "web"}, Target("shop/web", ("shop", "web"), None)),
        ({"instance": "node-2"}, Target("node-2", None, "node-2")),
        ({}, Target("the cluster", None, None)),
    ],
)
def test_an_alerts_target_is_its_service_its_node_or_the_cluster(
    parameters: dict[str, Any], target: Target
) -> None:
    assert targets_of([joined("a" * 16, parameters=parameters)]) == [target]


def test_alerts_on_one_target_are_checked_once_in_the_order_they_came() -> None:
    alerts = [
        joined("1" * 16, parameters={"namespace": "shop", "service": "web"}),
        joined("2" * 16, parameters={"instance": "node-1"}),
        joined("3" * 16, parameters={"namespace": "shop", "service": "web"}),
    ]

    assert [t.name for t in targets_of(alerts)] == ["shop/web", "node-1"]
