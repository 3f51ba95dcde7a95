"""Small helpers of the observation: node names from alert instances, emergency Service names."""

from __future__ import annotations

import pytest

from flows.checklist import emergency_service_name, resolve_node
from tests.flows.checklist.builders import nodes


@pytest.mark.parametrize(
    ("instance", "node"),
    [
        ("node-2", "node-2"),
        ("10.0.0.2", "node-2"),
        ("10.0.0.3:10249", "node-3"),
        ("node-1:10249", "node-1"),
        ("10.0.0.9:10249", None),
    ],
)
def test_an_alert_instance_names_a_node_by_name_or_address(instance: str, node: str | None) -> None:
    found = resolve_node(instance, nodes(3))

    assert (found.name if found else None) == node


def test_the_emergency_service_name_fits_in_a_dns_label() -> None:
    assert emergency_service_name("web") == "web-emergency"
    long_name = emergency_service_name("a" * 63)
    assert len(long_name) == 63
    assert long_name.endswith("-emergency")
