"""Pure endpoint computation: ports resolved per pod, readiness, left-out pods."""

from __future__ import annotations

from typing import Any

import pytest

from simcluster.controllers.endpoints import (
    EndpointPort,
    compute_endpoint_groups,
    endpoints_subsets,
    resolve_target_port,
    slice_body,
)

Obj = dict[str, Any]


def _pod(name: str, ip: str | None, *, ready: bool = True, ports: list[Obj] | None = None) -> Obj:
    status: Obj = {"phase": "Running", "conditions": [{"type": "Ready", "status": str(ready)}]}
    if ip:
        status["podIP"] = ip
    container = {
        "name": "app",
        "image": "app:1",
        "ports": ports if ports is not None else [{"name": "http", "containerPort": 8080}],
    }
    return {
        "metadata": {"name": name, "namespace": "shop", "uid": f"uid-{name}"},
        "spec": {"nodeName": "node-1", "containers": [container]},
        "status": status,
    }


def _service(target: int | str, *, publish_not_ready: bool = False) -> Obj:
    spec: Obj = {"ports": [{"name": "web", "port": 80, "protocol": "TCP", "targetPort": target}]}
    if publish_not_ready:
        spec["publishNotReadyAddresses"] = True
    return {"metadata": {"name": "web", "namespace": "shop"}, "spec": spec}


@pytest.mark.parametrize(
    ("target", "ports", "expected"),
    [
        (8080, [], 8080),
        ("9090", [], 9090),
        ("http", [{"name": "http", "containerPort": 8080}], 8080),
        ("http", [{"name": "metrics", "containerPort": 9100}], None),
        ("http", [{"name": "http", "containerPort": 8080, "protocol": "UDP"}], None),
    ],
)
def test_target_port_is_a_number_or_a_name_looked_up_in_the_pod(
    target: int | str, ports: list[Obj], expected: int | None
) -> None:
    pod = _pod("a", "10.0.0.1", ports=ports)
    assert (
        resolve_target_port(pod, {"port": 80, "protocol": "TCP", "targetPort": target}) == expected
    )


def test_ready_and_not_ready_pods_are_split_and_pods_without_ip_are_left_out() -> None:
    pods = [_pod("a", "10.0.0.2"), _pod("b", "10.0.0.1", ready=False), _pod("c", None)]
    [group] = compute_endpoint_groups(_service("http"), pods)
    assert group.ports == (EndpointPort("web", 8080, "TCP"),)
    assert [(a.ip, a.ready) for a in group.addresses] == [("10.0.0.1", False), ("10.0.0.2", True)]
    [subset] = endpoints_subsets([group])
    assert [a["ip"] for a in subset["addresses"]] == ["10.0.0.2"]
    assert [a["ip"] for a in subset["notReadyAddresses"]] == ["10.0.0.1"]


def test_a_pod_without_the_named_port_gives_no_endpoint() -> None:
    pods = [
        _pod("a", "10.0.0.1"),
        _pod("b", "10.0.0.2", ports=[{"name": "grpc", "containerPort": 9000}]),
    ]
    [group] = compute_endpoint_groups(_service("http"), pods)
    assert [a.pod_name for a in group.addresses] == ["a"]


def test_pods_resolving_a_name_to_different_numbers_form_separate_groups() -> None:
    pods = [
        _pod("a", "10.0.0.1"),
        _pod("b", "10.0.0.2", ports=[{"name": "http", "containerPort": 8081}]),
    ]
    groups = compute_endpoint_groups(_service("http"), pods)
    assert [g.ports[0].port for g in groups] == [8080, 8081]


def test_publish_not_ready_addresses_makes_every_address_ready() -> None:
    [group] = compute_endpoint_groups(
        _service(8080, publish_not_ready=True), [_pod("a", "10.0.0.1", ready=False)]
    )
    assert group.addresses[0].ready


def test_slice_endpoints_carry_conditions_target_ref_and_node() -> None:
    [group] = compute_endpoint_groups(_service(8080), [_pod("a", "10.0.0.1", ready=False)])
    body = slice_body(group)
    assert body["addressType"] == "IPv4"
    assert body["endpoints"] == [
        {
            "addresses": ["10.0.0.1"],
            "conditions": {"ready": False, "serving": False, "terminating": False},
            "nodeName": "node-1",
            "targetRef": {"kind": "Pod", "namespace": "shop", "name": "a", "uid": "uid-a"},
        }
    ]
    assert body["ports"] == [{"name": "web", "port": 8080, "protocol": "TCP"}]
