"""The diagnosis table: each observed scene gives exactly the expected findings."""

from __future__ import annotations

from dataclasses import replace

import pytest

from flows.checklist import (
    EndpointState,
    FindingCode,
    KubeProxyState,
    Observation,
    PodEvent,
    Severity,
    diagnose,
)
from tests.flows.checklist.builders import (
    IPTABLES_ERROR,
    cluster_wide,
    crash_looping,
    failing_readiness,
    healthy,
    kube_proxy,
    nodes,
    pod,
    proxy,
    service,
    unschedulable,
    workload,
)

C = FindingCode
BASE = healthy()
NO_ENDPOINTS = EndpointState(ready=0, not_ready=0)

SCENARIOS: list[tuple[str, Observation, list[FindingCode]]] = [
    ("healthy service", BASE, [C.SINGLE_SERVICE_AFFECTED, C.HEALTHY]),
    (
        "service missing",
        replace(BASE, service=None, endpoints=None, pods=()),
        [C.SINGLE_SERVICE_AFFECTED, C.SERVICE_MISSING],
    ),
    (
        "externalname service is not proxied",
        replace(BASE, service=replace(service(), type="ExternalName", external_name="db.example")),
        [C.SINGLE_SERVICE_AFFECTED, C.EXTERNAL_NAME],
    ),
    (
        "selector matches no pods",
        replace(
            BASE,
            service=service(selector={"app": "web-v2"}),
            pods=(),
            endpoints=NO_ENDPOINTS,
            namespace_pods=(pod("web-1"), pod("db-1", labels={"app": "db"})),
        ),
        [C.SINGLE_SERVICE_AFFECTED, C.SELECTOR_MATCHES_NO_PODS, C.NO_READY_ENDPOINTS],
    ),
    (
        "the selector matches a deployment scaled to zero (not a selector fault)",
        replace(
            BASE,
            pods=(),
            endpoints=NO_ENDPOINTS,
            namespace_pods=(pod("web-canary-1", labels={"app": "web-canary"}),),
            workloads=(workload(0), workload(0, kind="ReplicaSet", owner="Deployment/web")),
        ),
        [C.SINGLE_SERVICE_AFFECTED, C.WORKLOAD_SCALED_TO_ZERO, C.NO_READY_ENDPOINTS],
    ),
    (
        "the selector matches a stateful set scaled to zero",
        replace(
            BASE,
            pods=(),
            endpoints=NO_ENDPOINTS,
            workloads=(workload(0, kind="StatefulSet", updated=0),),
        ),
        [C.SINGLE_SERVICE_AFFECTED, C.WORKLOAD_SCALED_TO_ZERO, C.NO_READY_ENDPOINTS],
    ),
    (
        "a deployment rolling out a new template, its pods still starting",
        replace(
            BASE,
            pods=(pod("web-1", ready=False, phase="Pending"),),
            endpoints=NO_ENDPOINTS,
            workloads=(workload(3, updated=1, generation=3, observed=3),),
        ),
        [
            C.SINGLE_SERVICE_AFFECTED,
            C.WORKLOAD_ROLLING_OUT,
            C.NO_PODS_READY,
            C.NO_READY_ENDPOINTS,
        ],
    ),
    (
        "a rollout whose new pods crash is a pod fault, not progress",
        replace(
            BASE,
            pods=(crash_looping("web-1"),),
            endpoints=NO_ENDPOINTS,
            workloads=(workload(3, updated=1),),
        ),
        [C.SINGLE_SERVICE_AFFECTED, C.NO_PODS_READY, C.NO_READY_ENDPOINTS],
    ),
    (
        "pods no node has room for",
        replace(
            BASE,
            pods=(unschedulable("web-1"), unschedulable("web-2")),
            endpoints=NO_ENDPOINTS,
            workloads=(workload(2, updated=2, current=2),),
        ),
        [C.SINGLE_SERVICE_AFFECTED, C.PODS_UNSCHEDULABLE, C.NO_READY_ENDPOINTS],
    ),
    (
        "one pod of two no node has room for",
        replace(BASE, pods=(pod("web-1"), unschedulable("web-2"))),
        [C.SINGLE_SERVICE_AFFECTED, C.PODS_UNSCHEDULABLE],
    ),
    (
        "named target port exposed by no pod",
        replace(BASE, service=service(target_port="web"), endpoints=NO_ENDPOINTS),
        [C.SINGLE_SERVICE_AFFECTED, C.TARGET_PORT_NOT_EXPOSED, C.NO_READY_ENDPOINTS],
    ),
    (
        "numeric target port not declared by pods that declare others",
        replace(BASE, service=service(target_port=9090)),
        [C.SINGLE_SERVICE_AFFECTED, C.TARGET_PORT_NOT_EXPOSED],
    ),
    (
        "numeric target port on pods that declare no ports is not a finding",
        replace(BASE, service=service(target_port=9090), pods=(pod("web-1", ports=()),)),
        [C.SINGLE_SERVICE_AFFECTED, C.HEALTHY],
    ),
    (
        "no pod ready: crash loop and failing readiness probe",
        replace(
            BASE,
            pods=(crash_looping("web-1"), failing_readiness("web-2")),
            endpoints=EndpointState(ready=0, not_ready=2),
        ),
        [C.SINGLE_SERVICE_AFFECTED, C.NO_PODS_READY, C.NO_READY_ENDPOINTS],
    ),
    (
        "some pods not ready",
        replace(BASE, pods=(pod("web-1"), pod("web-2", ready=False, phase="Pending"))),
        [C.SINGLE_SERVICE_AFFECTED, C.SOME_PODS_NOT_READY],
    ),
    (
        "kube-proxy crash-looping on one node",
        replace(BASE, kube_proxy=kube_proxy(3, broken={"node-2": proxy("node-2", crash=True)})),
        [C.SINGLE_SERVICE_AFFECTED, C.KUBE_PROXY_CRASH_LOOPING],
    ),
    (
        "kube-proxy not ready on one node",
        replace(BASE, kube_proxy=kube_proxy(3, broken={"node-3": proxy("node-3", ready=False)})),
        [C.SINGLE_SERVICE_AFFECTED, C.KUBE_PROXY_NOT_READY],
    ),
    (
        "kube-proxy ready but failing iptables-restore",
        replace(
            BASE,
            kube_proxy=kube_proxy(3, broken={"node-1": proxy("node-1", errors=(IPTABLES_ERROR,))}),
        ),
        [C.SINGLE_SERVICE_AFFECTED, C.KUBE_PROXY_SYNC_ERRORS],
    ),
    (
        "kube-proxy missing on a ready node",
        replace(
            BASE,
            kube_proxy=replace(kube_proxy(3), pods=tuple(kube_proxy(3).pods[:2])),
        ),
        [C.SINGLE_SERVICE_AFFECTED, C.KUBE_PROXY_MISSING_ON_NODE],
    ),
    (
        "no kube-proxy daemonset at all",
        replace(BASE, kube_proxy=KubeProxyState(daemon_set=None)),
        [C.SINGLE_SERVICE_AFFECTED, C.KUBE_PROXY_DAEMONSET_MISSING],
    ),
    (
        "rollout in progress with healthy new pods",
        replace(
            BASE,
            kube_proxy=kube_proxy(3, updated=1, broken={"node-2": proxy("node-2", updated=False)}),
        ),
        [C.SINGLE_SERVICE_AFFECTED, C.KUBE_PROXY_ROLLOUT_IN_PROGRESS, C.HEALTHY],
    ),
    (
        "rollout stuck: the new revision crash-loops",
        replace(
            BASE,
            kube_proxy=kube_proxy(
                3,
                updated=1,
                broken={
                    "node-1": proxy("node-1", crash=True, updated=True),
                    "node-2": proxy("node-2", updated=False),
                    "node-3": proxy("node-3", updated=False),
                },
            ),
        ),
        [C.SINGLE_SERVICE_AFFECTED, C.KUBE_PROXY_CRASH_LOOPING, C.KUBE_PROXY_ROLLOUT_STUCK],
    ),
    (
        "externalTrafficPolicy Local with nodes lacking a local endpoint",
        replace(BASE, service=service(type="NodePort", external_traffic_policy="Local")),
        [C.SINGLE_SERVICE_AFFECTED, C.LOCAL_POLICY_NODES_WITHOUT_ENDPOINT],
    ),
    (
        "externalTrafficPolicy Local on a ClusterIP Service changes nothing",
        replace(BASE, service=service(external_traffic_policy="Local")),
        [C.SINGLE_SERVICE_AFFECTED, C.HEALTHY],
    ),
    (
        "many services alerting at once",
        replace(BASE, other_alerts_firing=4),
        [C.MANY_SERVICES_AFFECTED],
    ),
    ("alert count unknown", replace(BASE, other_alerts_firing=None), [C.HEALTHY]),
    (
        "node not ready",
        replace(BASE, nodes=nodes(3, not_ready=("node-3",))),
        [C.SINGLE_SERVICE_AFFECTED, C.NODE_NOT_READY],
    ),
    (
        "cluster scope with two crash-looping kube-proxies",
        cluster_wide(5, node_2=proxy("node-2", crash=True), node_4=proxy("node-4", crash=True)),
        [C.KUBE_PROXY_CRASH_LOOPING, C.KUBE_PROXY_CRASH_LOOPING],
    ),
    ("cluster scope, all fine", cluster_wide(5), [C.HEALTHY]),
    (
        "node scope looks only at its node",
        replace(cluster_wide(3, node_1=proxy("node-1", crash=True)), instance="10.0.0.2:10249"),
        [C.HEALTHY],
    ),
    (
        "node scope on the broken node",
        replace(cluster_wide(3, node_1=proxy("node-1", crash=True)), instance="node-1"),
        [C.KUBE_PROXY_CRASH_LOOPING],
    ),
    (
        "node scope naming no node",
        replace(cluster_wide(3), instance="10.9.9.9:10249"),
        [C.NODE_UNKNOWN],
    ),
]


@pytest.mark.parametrize(
    ("observation", "expected"),
    [pytest.param(obs, codes, id=name) for name, obs, codes in SCENARIOS],
)
def test_each_scene_gives_the_expected_findings(
    observation: Observation, expected: list[FindingCode]
) -> None:
    found = [finding.code for finding in diagnose(observation)]

    assert sorted(found) == sorted(expected)


def test_a_crash_looping_kube_proxy_counts_once_per_node() -> None:
    observation = cluster_wide(
        5, node_2=proxy("node-2", crash=True), node_4=proxy("node-4", crash=True)
    )

    subjects = [f.subject for f in diagnose(observation)]

    assert subjects == ["kube-system/kube-proxy-node-2", "kube-system/kube-proxy-node-4"]


def test_no_ready_pods_names_each_reason_with_the_latest_warning() -> None:
    observation = replace(BASE, pods=(crash_looping("web-1"), failing_readiness("web-2")))

    (finding,) = (f for f in diagnose(observation) if f.code is C.NO_PODS_READY)

    assert finding.severity is Severity.CRITICAL
    assert finding.evidence == (
        "pod web-1: CrashLoopBackOff on node-1, 7 restarts",
        "pod web-2: readiness probe failing on node-1 "
        "(Unhealthy: Readiness probe failed: HTTP probe failed)",
    )


def test_a_selector_that_matches_nothing_shows_the_pods_that_nearly_match() -> None:
    observation = replace(
        BASE,
        service=service(selector={"app": "web-v2"}),
        pods=(),
        namespace_pods=(pod("web-1"), pod("web-2"), pod("db-1", labels={"app": "db"})),
    )

    (finding,) = (f for f in diagnose(observation) if f.code is C.SELECTOR_MATCHES_NO_PODS)

    assert finding.evidence == (
        "selector: app=web-v2",
        "nearly matching pods: app=web (web-1, web-2)",
    )


def test_kube_proxy_log_errors_are_the_evidence() -> None:
    broken = proxy("node-1", crash=True, errors=(IPTABLES_ERROR,))
    observation = cluster_wide(3, node_1=broken)

    (finding,) = diagnose(observation)

    assert IPTABLES_ERROR in finding.evidence
    assert "Failed to execute iptables-restore" in finding.evidence[1]


def test_a_stuck_rollout_points_at_the_rollback_flow() -> None:
    state = kube_proxy(3, updated=1, broken={"node-1": proxy("node-1", crash=True, updated=True)})

    findings = diagnose(replace(BASE, kube_proxy=state))

    (stuck,) = (f for f in findings if f.code is C.KUBE_PROXY_ROLLOUT_STUCK)
    assert "kube-proxy-rollback/kube-proxy-rollback" in stuck.summary
    assert stuck.evidence[0] == (
        "DaemonSet: 3 desired, 1 updated, 2 ready; generation 2, observed 2"
    )


def test_a_target_port_finding_lists_what_each_pod_declares() -> None:
    observation = replace(BASE, service=service(target_port="web"))

    (finding,) = (f for f in diagnose(observation) if f.code is C.TARGET_PORT_NOT_EXPOSED)

    assert finding.severity is Severity.CRITICAL
    assert finding.evidence == (
        "pod web-1 declares: http=8080/TCP",
        "pod web-2 declares: http=8080/TCP",
    )


def test_a_pending_pod_shows_its_scheduling_event() -> None:
    event = PodEvent(reason="FailedScheduling", message="0/3 nodes are available")
    observation = replace(
        BASE, pods=(pod("web-1"), pod("web-2", ready=False, phase="Pending", events=(event,)))
    )

    (finding,) = (f for f in diagnose(observation) if f.code is C.SOME_PODS_NOT_READY)

    assert finding.evidence == (
        "pod web-2: Pending on node-1 (FailedScheduling: 0/3 nodes are available)",
    )


@pytest.mark.parametrize(
    ("observation", "summary"),
    [
        (BASE, "Only this alert fires: look at this Service and its pods first"),
        (
            replace(cluster_wide(3), instance="node-2", other_alerts_firing=0),
            "Only this alert fires: look at this node and its kube-proxy first",
        ),
        (
            replace(cluster_wide(3), other_alerts_firing=0),
            "No other alert of this name fires",
        ),
    ],
)
def test_an_alert_firing_alone_points_at_what_its_run_is_scoped_to(
    observation: Observation, summary: str
) -> None:
    [alone] = [f for f in diagnose(observation) if f.code is C.SINGLE_SERVICE_AFFECTED]
    assert alone.summary == summary


def test_a_deployment_scaled_to_zero_says_so_and_proposes_no_selector_for_other_apps() -> None:
    observation = replace(
        BASE,
        pods=(),
        endpoints=NO_ENDPOINTS,
        namespace_pods=(
            pod("web-canary-1", labels={"app": "web-canary"}),
            pod("web-admin-1", labels={"app": "web-admin"}),
        ),
        workloads=(workload(0, current=0), workload(0, kind="ReplicaSet", owner="Deployment/web")),
    )

    [scaled] = [f for f in diagnose(observation) if f.code is C.WORKLOAD_SCALED_TO_ZERO]

    assert scaled.summary == (
        "Deployment shop/web is scaled to 0 replicas: the Service's selector is right, and "
        "there is no pod to select"
    )
    assert scaled.subject == "shop/deployment/web"
    assert scaled.evidence == (
        "Deployment web: spec.replicas 0, 0 pod(s), 0 Ready",
        "the selector app=web matches its pod template",
    )


def test_a_selector_matching_nothing_says_which_workload_kinds_could_not_be_read() -> None:
    observation = replace(
        BASE,
        service=service(selector={"app": "web-v2"}),
        pods=(),
        endpoints=NO_ENDPOINTS,
        namespace_pods=(),
        workloads=(),
        unreadable_workloads=("StatefulSets",),
    )

    [finding] = [f for f in diagnose(observation) if f.code is C.SELECTOR_MATCHES_NO_PODS]

    assert finding.evidence == (
        "selector: app=web-v2",
        "no Deployment, ReplicaSet or StatefulSet of the namespace has a pod template it matches",
        "StatefulSets could not be read (forbidden), so one of them scaled to zero is not ruled "
        "out",
    )


def test_other_alerts_alertmanager_lists_make_a_cluster_suspect() -> None:
    [finding] = [
        f for f in diagnose(replace(BASE, other_alerts_firing=2)) if f.subject == "cluster"
    ]

    assert finding.severity is Severity.WARNING
    assert finding.summary == (
        "3 alerts of this name fire at once: suspect kube-proxy, the CNI or a node rather "
        "than one Service"
    )
    assert finding.evidence == ("2 other alert(s) of the same name firing (Alertmanager's API)",)


def test_other_alerts_only_the_receivers_record_counts_are_not_taken_as_firing() -> None:
    observation = replace(BASE, other_alerts_firing=2, other_alerts_confirmed=False)

    findings = diagnose(observation)

    [scope] = [f for f in findings if f.code is C.MANY_SERVICES_AFFECTED]
    assert scope.severity is Severity.INFO
    assert [f.code for f in findings][-1] is C.HEALTHY
