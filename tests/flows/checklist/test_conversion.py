"""From the adapter's views (parsed from real API JSON) to the checklist's observation."""

from __future__ import annotations

from typing import Any

from flows.checklist import EndpointState, PodEvent
from flows.checklist.conversion import (
    current_revision_hash,
    endpoint_state,
    kube_proxy_daemon_set,
    kube_proxy_pod,
    node_state,
    pod_state,
    service_state,
    workload_state,
)
from integrations.kubernetes.views import (
    parse_controller_revision,
    parse_daemon_set,
    parse_deployment,
    parse_endpoint_slice,
    parse_endpoints,
    parse_event,
    parse_node,
    parse_pod,
    parse_replica_set,
    parse_service,
)


def slice_json(name: str, endpoints: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "metadata": {
            "name": name,
            "namespace": "shop",
            "labels": {"kubernetes.io/service-name": "web"},
        },
        "addressType": "IPv4",
        "endpoints": endpoints,
        "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}],
    }


def test_a_service_keeps_its_selector_ports_and_traffic_policy() -> None:
    view = parse_service(
        {
            "metadata": {"name": "web", "namespace": "shop", "resourceVersion": "17"},
            "spec": {
                "type": "NodePort",
                "clusterIP": "10.96.0.10",
                "selector": {"app": "web"},
                "externalTrafficPolicy": "Local",
                "ports": [{"name": "http", "port": 80, "targetPort": "http", "nodePort": 30080}],
            },
        }
    )

    state = service_state(view)

    assert (state.namespace, state.name, state.type) == ("shop", "web", "NodePort")
    assert dict(state.selector) == {"app": "web"}
    assert state.external_traffic_policy == "Local"
    (port,) = state.ports
    assert (port.port, port.target_port, port.node_port) == (80, "http", 30080)


def test_endpoint_slices_count_each_address_once_and_unset_ready_as_ready() -> None:
    slices = [
        parse_endpoint_slice(
            slice_json(
                "web-a",
                [
                    {"addresses": ["10.244.0.1"], "conditions": {"ready": True}, "nodeName": "n1"},
                    {"addresses": ["10.244.0.2"], "conditions": {}, "nodeName": "n2"},
                    {"addresses": ["10.244.0.3"], "conditions": {"ready": False}, "nodeName": "n3"},
                ],
            )
        ),
        parse_endpoint_slice(
            slice_json("web-b", [{"addresses": ["10.244.0.1"], "conditions": {"ready": True}}])
        ),
    ]

    assert endpoint_state(slices) == EndpointState(
        ready=2, not_ready=1, ready_nodes=frozenset({"n1", "n2"})
    )


def test_legacy_endpoints_are_read_when_there_is_no_slice() -> None:
    endpoints = parse_endpoints(
        {
            "metadata": {"name": "web", "namespace": "shop"},
            "subsets": [
                {
                    "addresses": [{"ip": "10.244.0.1", "nodeName": "n1"}],
                    "notReadyAddresses": [{"ip": "10.244.0.2", "nodeName": "n2"}],
                    "ports": [{"port": 8080}],
                }
            ],
        }
    )

    assert endpoint_state([], endpoints) == EndpointState(
        ready=1, not_ready=1, ready_nodes=frozenset({"n1"})
    )


def test_a_pod_keeps_its_owner_reasons_ports_and_only_its_own_events() -> None:
    view = parse_pod(
        {
            "metadata": {
                "name": "web-1",
                "namespace": "shop",
                "uid": "u1",
                "labels": {"app": "web"},
                "ownerReferences": [
                    {
                        "apiVersion": "apps/v1",
                        "kind": "ReplicaSet",
                        "name": "web-7d4b9",
                        "uid": "rs",
                        "controller": True,
                    }
                ],
            },
            "spec": {
                "nodeName": "n1",
                "containers": [{"name": "app", "ports": [{"name": "http", "containerPort": 8080}]}],
            },
            "status": {
                "phase": "Running",
                "podIP": "10.244.0.1",
                "conditions": [{"type": "Ready", "status": "False"}],
                "containerStatuses": [
                    {
                        "name": "app",
                        "ready": False,
                        "restartCount": 4,
                        "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                    }
                ],
            },
        }
    )
    events = [
        parse_event(
            {
                "metadata": {"name": f"e{i}", "namespace": "shop"},
                "involvedObject": {"kind": "Pod", "name": name, "uid": uid},
                "reason": reason,
                "message": reason.lower(),
                "type": "Warning",
                "lastTimestamp": f"2026-11-25T17:0{i}:00Z",
            }
        )
        for i, (name, uid, reason) in enumerate(
            [("web-1", "u1", "BackOff"), ("web-2", "u2", "Unhealthy"), ("web-1", "u1", "Killing")]
        )
    ]

    state = pod_state(view, reversed(events))

    assert (state.owner_kind, state.owner_name) == ("ReplicaSet", "web-7d4b9")
    assert (state.ready, state.restart_count, state.waiting_reasons) == (
        False,
        4,
        ("CrashLoopBackOff",),
    )
    assert [(p.name, p.number) for p in state.container_ports] == [("http", 8080)]
    assert state.events == (
        PodEvent(reason="BackOff", message="backoff"),
        PodEvent(reason="Killing", message="killing"),
    )


PROXY_TEMPLATE = {
    "metadata": {"labels": {"k8s-app": "kube-proxy"}},
    "spec": {"containers": [{"name": "kube-proxy", "image": "registry.k8s.io/kube-proxy:v1.30.4"}]},
}
OLD_TEMPLATE = {
    "metadata": {"labels": {"k8s-app": "kube-proxy"}},
    "spec": {"containers": [{"name": "kube-proxy", "image": "registry.k8s.io/kube-proxy:v1.30.3"}]},
}


def _proxy_daemon_set(*, generation: int) -> Any:
    return parse_daemon_set(
        {
            "metadata": {
                "name": "kube-proxy",
                "namespace": "kube-system",
                "generation": generation,
            },
            "spec": {
                "selector": {"matchLabels": {"k8s-app": "kube-proxy"}},
                "template": PROXY_TEMPLATE,
            },
            "status": {
                "desiredNumberScheduled": 3,
                "updatedNumberScheduled": 1,
                "numberReady": 2,
                "observedGeneration": generation,
            },
        }
    )


def _revision(hash_: str, number: int, template: dict[str, Any]) -> Any:
    return parse_controller_revision(
        {
            "metadata": {
                "name": f"kube-proxy-{hash_}",
                "namespace": "kube-system",
                "labels": {"k8s-app": "kube-proxy", "controller-revision-hash": hash_},
            },
            "revision": number,
            "data": {"spec": {"template": {**template, "$patch": "replace"}}},
        }
    )


def _proxy_pod(hash_: str, generation: str) -> Any:
    return parse_pod(
        {
            "metadata": {
                "name": f"kube-proxy-{hash_}-{generation}",
                "namespace": "kube-system",
                "labels": {
                    "k8s-app": "kube-proxy",
                    "controller-revision-hash": hash_,
                    "pod-template-generation": generation,
                },
            },
            "spec": {"nodeName": "n1"},
            "status": {"phase": "Running"},
        }
    )


def test_the_current_revision_is_the_one_holding_the_daemon_sets_template() -> None:
    revisions = [_revision("new", 2, PROXY_TEMPLATE), _revision("old", 1, OLD_TEMPLATE)]

    assert current_revision_hash(_proxy_daemon_set(generation=3), revisions) == "new"
    # Not caught up with the template yet: which pods are current is unknown.
    assert current_revision_hash(_proxy_daemon_set(generation=3), revisions[1:]) is None


def test_a_kube_proxy_pod_is_current_by_its_revision_hash_whatever_its_generation_label() -> None:
    # The DaemonSet's generation moved on (an updateStrategy change) with the template unchanged:
    # pods of generation 3 still run the current template.
    daemon_set = _proxy_daemon_set(generation=4)
    current = current_revision_hash(daemon_set, [_revision("new", 2, PROXY_TEMPLATE)])

    new = kube_proxy_pod(_proxy_pod("new", "3"), current_hash=current, error_lines=("E1125 x",))
    old = kube_proxy_pod(_proxy_pod("old", "2"), current_hash=current)

    assert (new.updated, old.updated) == (True, False)
    assert new.error_lines == ("E1125 x",)
    assert kube_proxy_pod(_proxy_pod("old", "2"), current_hash=None).updated is None
    counters = kube_proxy_daemon_set(daemon_set)
    assert (counters.desired, counters.updated, counters.ready) == (3, 1, 2)
    assert counters.rollout_observed


def test_a_workload_keeps_its_replicas_rollout_counters_and_owner() -> None:
    deployment = workload_state(
        parse_deployment(
            {
                "metadata": {"name": "web", "namespace": "shop", "generation": 4},
                "spec": {
                    "replicas": 0,
                    "selector": {"matchLabels": {"app": "web"}},
                    "template": {"metadata": {"labels": {"app": "web"}}},
                },
                "status": {"observedGeneration": 4, "replicas": 1, "updatedReplicas": 1},
            }
        )
    )
    replica_set = workload_state(
        parse_replica_set(
            {
                "metadata": {
                    "name": "web-7d4b9",
                    "namespace": "shop",
                    "ownerReferences": [
                        {"kind": "Deployment", "name": "web", "uid": "u", "controller": True}
                    ],
                },
                "spec": {"replicas": 0},
                "status": {"replicas": 0},
            }
        )
    )

    assert (deployment.kind, deployment.replicas, deployment.current, deployment.updated) == (
        "Deployment",
        0,
        1,
        1,
    )
    assert deployment.subject == "shop/deployment/web"
    assert (replica_set.kind, replica_set.owner, replica_set.updated) == (
        "ReplicaSet",
        "Deployment/web",
        None,
    )


def test_a_pod_no_node_can_take_keeps_the_schedulers_message() -> None:
    view = parse_pod(
        {
            "metadata": {"name": "big-1", "namespace": "shop"},
            "status": {
                "phase": "Pending",
                "conditions": [
                    {
                        "type": "PodScheduled",
                        "status": "False",
                        "reason": "Unschedulable",
                        "message": "0/5 nodes are available: 5 Insufficient cpu.",
                    }
                ],
            },
        }
    )

    assert pod_state(view).unschedulable == "0/5 nodes are available: 5 Insufficient cpu."


def test_a_node_keeps_readiness_and_internal_address() -> None:
    view = parse_node(
        {
            "metadata": {"name": "n1"},
            "status": {
                "conditions": [{"type": "Ready", "status": "True"}],
                "addresses": [
                    {"type": "Hostname", "address": "n1"},
                    {"type": "InternalIP", "address": "10.0.0.1"},
                ],
            },
        }
    )

    state = node_state(view)

    assert (state.name, state.ready, state.internal_ip) == ("n1", True, "10.0.0.1")
