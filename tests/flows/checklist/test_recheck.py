"""Re-checks right before a mutation: skip what the cluster no longer needs."""

from __future__ import annotations

from dataclasses import replace

import pytest

from flows.checklist import (
    Action,
    CreateEmergencyNodePort,
    Observation,
    PatchServiceSelector,
    PatchServiceTargetPort,
    Proceed,
    RestartAppPod,
    RestartKubeProxyPod,
    ServicePortState,
    Skip,
    VerifyServiceEndpoints,
    recheck,
)
from tests.flows.checklist.builders import (
    crash_looping,
    healthy,
    kube_proxy,
    nodes,
    pod,
    proxy,
    service,
)

RESTART_PROXY = RestartKubeProxyPod(
    pod="kube-proxy-node-2", uid="uid-kube-proxy-node-2", node="node-2", wave=0, needs_approval=True
)
EMERGENCY = CreateEmergencyNodePort(
    namespace="shop",
    service="web",
    selector={"app": "web"},
    ports=(ServicePortState(port=80, target_port="http", name="http"),),
    needs_approval=True,
)
RESTART_APP = RestartAppPod(
    namespace="shop", pod="web-2", uid="uid-web-2", owner="ReplicaSet/web", needs_approval=True
)
FIX_SELECTOR = PatchServiceSelector(
    namespace="shop",
    service="web",
    before={"app": "web-v2"},
    after={"app": "web"},
    needs_approval=True,
)
FIX_PORT = PatchServiceTargetPort(
    namespace="shop",
    service="web",
    index=0,
    port=80,
    before="web",
    after="http",
    needs_approval=True,
)

BROKEN_PROXY = kube_proxy(3, broken={"node-2": proxy("node-2", crash=True)})
PROXY_DOWN = replace(healthy(), kube_proxy=BROKEN_PROXY)
APP_DOWN = replace(healthy(), pods=(pod("web-1"), crash_looping("web-2")))

CASES: list[tuple[str, Action, Observation, str | None]] = [
    ("kube-proxy still crashing", RESTART_PROXY, PROXY_DOWN, None),
    ("kube-proxy ready again", RESTART_PROXY, healthy(), "is Ready again without errors"),
    (
        "kube-proxy pod already replaced",
        RESTART_PROXY,
        replace(PROXY_DOWN, kube_proxy=replace(BROKEN_PROXY, pods=BROKEN_PROXY.pods[::2])),
        "is gone",
    ),
    (
        "kube-proxy pod recreated under the same name",
        RESTART_PROXY,
        replace(
            PROXY_DOWN,
            kube_proxy=kube_proxy(
                3, broken={"node-2": replace(proxy("node-2", crash=True), uid="x")}
            ),
        ),
        "is gone",
    ),
    (
        "kube-proxy pod already terminating",
        RESTART_PROXY,
        replace(
            PROXY_DOWN,
            kube_proxy=kube_proxy(
                3, broken={"node-2": replace(proxy("node-2", crash=True), deleting=True)}
            ),
        ),
        "already being deleted",
    ),
    (
        "kube-proxy's node went NotReady",
        RESTART_PROXY,
        replace(PROXY_DOWN, nodes=nodes(3, not_ready=("node-2",))),
        "is not Ready",
    ),
    ("kube-proxy not observed", RESTART_PROXY, replace(PROXY_DOWN, kube_proxy=None), "cannot be"),
    ("emergency still needed", EMERGENCY, PROXY_DOWN, None),
    (
        "emergency service exists",
        EMERGENCY,
        replace(PROXY_DOWN, emergency_service=replace(service(), name="web-emergency")),
        "already exists",
    ),
    ("kube-proxy recovered", EMERGENCY, healthy(), "healthy on every node again"),
    ("service gone", EMERGENCY, replace(PROXY_DOWN, service=None), "is gone"),
    (
        "no ready pods left",
        EMERGENCY,
        replace(PROXY_DOWN, pods=(crash_looping("web-1"),)),
        "no Ready",
    ),
    ("app pod still failing", RESTART_APP, APP_DOWN, None),
    ("app pod ready again", RESTART_APP, healthy(), "is Ready again"),
    ("app pod gone", RESTART_APP, replace(APP_DOWN, pods=(pod("web-1"),)), "is gone"),
    (
        "selector still wrong",
        FIX_SELECTOR,
        replace(healthy(), service=service(selector={"app": "web-v2"})),
        None,
    ),
    ("selector already fixed", FIX_SELECTOR, healthy(), "already fixed"),
    (
        "selector changed by someone else",
        FIX_SELECTOR,
        replace(healthy(), service=service(selector={"app": "web-v3"})),
        "changed since the plan",
    ),
    ("port still wrong", FIX_PORT, replace(healthy(), service=service(target_port="web")), None),
    ("port already fixed", FIX_PORT, healthy(), "already fixed"),
    (
        "port changed by someone else",
        FIX_PORT,
        replace(healthy(), service=service(target_port=8080)),
        "changed since the plan",
    ),
    (
        "ports rearranged",
        FIX_PORT,
        replace(healthy(), service=replace(service(), ports=())),
        "ports changed",
    ),
    (
        "verification always proceeds",
        VerifyServiceEndpoints(namespace="shop", service="web", needs_approval=False),
        replace(healthy(), service=None),
        None,
    ),
]


@pytest.mark.parametrize(
    ("action", "now", "skip_reason"),
    [pytest.param(action, now, reason, id=name) for name, action, now, reason in CASES],
)
def test_a_step_runs_only_while_the_state_still_calls_for_it(
    action: Action, now: Observation, skip_reason: str | None
) -> None:
    decision = recheck(action, now)

    if skip_reason is None:
        assert decision == Proceed()
    else:
        assert isinstance(decision, Skip)
        assert skip_reason in decision.reason
