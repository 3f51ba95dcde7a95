"""Small helpers of the observation: node names from alert instances, log errors, names."""

from __future__ import annotations

import pytest

from flows.checklist import emergency_service_name, resolve_node
from flows.checklist.health import error_lines
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


KUBE_PROXY_LOG = """\
I1125 17:08:30.000000       1 proxier.go:805] "Syncing iptables rules"
E1125 17:08:30.020000       1 proxier.go:1525] "Failed to execute iptables-restore" err="exit 1"
I1125 17:08:30.021000       1 proxier.go:1528] "Sync failed" retryingTime="1s"
E1125 17:08:33.000000       1 run.go:74] "command failed" err="failed to sync proxy rules"
"""


def test_error_lines_are_klog_errors_and_plain_errors_only() -> None:
    assert error_lines(KUBE_PROXY_LOG) == (
        'E1125 17:08:30.020000       1 proxier.go:1525] "Failed to execute iptables-restore" '
        'err="exit 1"',
        'E1125 17:08:33.000000       1 run.go:74] "command failed" '
        'err="failed to sync proxy rules"',
    )
    assert error_lines("exec /usr/local/bin/kube-proxy: exec format error\nok") == (
        "exec /usr/local/bin/kube-proxy: exec format error",
    )


def test_error_lines_keep_the_latest_few() -> None:
    log = "\n".join(f"E1125 17:08:{i:02d}.000000 1 x.go:1] failure {i}" for i in range(9))

    assert [line[-9:] for line in error_lines(log, limit=3)] == [
        "failure 6",
        "failure 7",
        "failure 8",
    ]
