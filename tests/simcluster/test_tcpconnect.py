"""A TCP connect from a node: through the node's Service rules to a pod that listens, or not."""

from __future__ import annotations

from typing import Any

import pytest

from simcluster.proxyrules import ServicePort
from simcluster.tcpconnect import REFUSED, TIMED_OUT, connect_error

Obj = dict[str, Any]


def _pod(ip: str, *ports: int, running: bool = True) -> Obj:
    state = {"running": {}} if running else {"waiting": {"reason": "CrashLoopBackOff"}}
    return {
        "spec": {
            "containers": [
                {"name": "app", "ports": [{"containerPort": p, "protocol": "TCP"} for p in ports]}
            ]
        },
        "status": {"podIP": ip, "containerStatuses": [{"state": state}]},
    }


def _rule(*endpoints: tuple[str, int]) -> ServicePort:
    return ServicePort("shop", "web", "http", "TCP", "10.96.0.20", 80, None, endpoints)


PODS = [_pod("10.128.1.5", 8080), _pod("10.128.1.6"), _pod("10.128.1.7", 8080, running=False)]


@pytest.mark.parametrize(
    ("rules", "host", "port", "error"),
    [
        pytest.param([_rule(("10.128.1.5", 8080))], "10.96.0.20", 80, None, id="to a listener"),
        pytest.param([_rule(("10.128.1.5", 8081))], "10.96.0.20", 80, REFUSED, id="wrong port"),
        pytest.param([_rule()], "10.96.0.20", 80, REFUSED, id="no endpoints: REJECT"),
        pytest.param([], "10.96.0.20", 80, TIMED_OUT, id="no rule, nobody there"),
        pytest.param([], "10.128.1.6", 9999, None, id="a pod declaring no ports"),
        pytest.param([], "10.128.1.7", 8080, REFUSED, id="a pod not running"),
    ],
)
def test_a_connect_goes_where_the_rules_send_it_and_succeeds_on_a_listener(
    rules: list[ServicePort], host: str, port: int, error: str | None
) -> None:
    assert connect_error(rules, PODS, host, port) == error
