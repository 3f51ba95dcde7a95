"""Pure endpoint computation: ports, readiness and termination, slices of 100, capacity."""

from __future__ import annotations

from typing import Any

import pytest

from simcluster.controllers.endpoints import (
    Address,
    EndpointGroup,
    EndpointPort,
    compute_endpoint_groups,
    endpoints_subsets,
    plan_slices,
    resolve_target_port,
    slice_body,
    truncate_subsets,
)
from simcluster.controllers.endpoints_controller import endpoints_object

Obj = dict[str, Any]


def _pod(
    name: str,
    ip: str | None,
    *,
    ready: bool = True,
    ports: list[Obj] | None = None,
    terminating: bool = False,
) -> Obj:
    status: Obj = {"phase": "Running", "conditions": [{"type": "Ready", "status": str(ready)}]}
    if ip:
        status["podIP"] = ip
    container = {
        "name": "app",
        "image": "app:1",
        "ports": ports if ports is not None else [{"name": "http", "containerPort": 8080}],
    }
    meta: Obj = {"name": name, "namespace": "shop", "uid": f"uid-{name}"}
    if terminating:
        meta.update(deletionTimestamp="2026-01-01T12:00:30Z", deletionGracePeriodSeconds=30)
    return {
        "metadata": meta,
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


def test_a_terminating_pod_is_a_serving_terminating_endpoint_and_leaves_the_endpoints() -> None:
    pods = [_pod("a", "10.0.0.1"), _pod("b", "10.0.0.2", terminating=True)]
    [group] = compute_endpoint_groups(_service(8080), pods)
    conditions = [e["conditions"] for e in slice_body(group)["endpoints"]]
    assert conditions == [
        {"ready": True, "serving": True, "terminating": False},
        {"ready": False, "serving": True, "terminating": True},
    ]
    [subset] = endpoints_subsets([group])
    assert [a["ip"] for a in subset["addresses"]] == ["10.0.0.1"]
    assert "notReadyAddresses" not in subset


def test_a_terminating_pod_that_stopped_serving_is_neither_ready_nor_serving() -> None:
    [group] = compute_endpoint_groups(
        _service(8080), [_pod("a", "10.0.0.1", ready=False, terminating=True)]
    )
    [endpoint] = slice_body(group)["endpoints"]
    assert endpoint["conditions"] == {"ready": False, "serving": False, "terminating": True}
    assert endpoints_subsets([group]) == []


def test_publish_not_ready_addresses_keeps_a_terminating_pod_ready_in_both() -> None:
    [group] = compute_endpoint_groups(
        _service(8080, publish_not_ready=True), [_pod("a", "10.0.0.1", terminating=True)]
    )
    [endpoint] = slice_body(group)["endpoints"]
    assert endpoint["conditions"] == {"ready": True, "serving": True, "terminating": True}
    [subset] = endpoints_subsets([group])
    assert [a["ip"] for a in subset["addresses"]] == ["10.0.0.1"]


HTTP = (EndpointPort("http", 8080, "TCP"),)


def _address(index: int, *, ready: bool = True) -> Address:
    ip = f"10.244.{index // 250}.{index % 250 + 2}"
    return Address(ip, "node-1", f"web-{index}", f"uid-{index}", "shop", ready, serving=ready)


def _group(indexes: range, *, ready: bool = True) -> EndpointGroup:
    return EndpointGroup(HTTP, tuple(_address(i, ready=ready) for i in indexes))


def _existing(name: str, group: EndpointGroup) -> Obj:
    return {"metadata": {"name": name}, **slice_body(group)}


def _uids(group: EndpointGroup) -> set[str]:
    return {a.pod_uid for a in group.addresses}


def test_250_endpoints_fill_three_new_slices_of_100_100_and_50() -> None:
    plan = plan_slices([], [_group(range(250))])
    assert [name for name, _ in plan.writes] == [None, None, None]
    assert [len(group.addresses) for _, group in plan.writes] == [100, 100, 50]
    assert set().union(*(_uids(group) for _, group in plan.writes)) == {
        f"uid-{i}" for i in range(250)
    }
    assert plan.deletes == []


def test_endpoints_stay_in_their_slice_and_new_ones_fill_slices_with_room() -> None:
    first, second = _group(range(100)), _group(range(100, 150))
    existing = [_existing("web-aaaaa", first), _existing("web-bbbbb", second)]
    # Pod 7 went away; pods 150 to 209 are new.
    wanted = EndpointGroup(HTTP, tuple(_address(i) for i in range(210) if i != 7))
    plan = plan_slices(existing, [wanted])
    [(a_name, a), (b_name, b), (new_name, new)] = plan.writes
    assert (a_name, b_name, new_name) == ("web-aaaaa", "web-bbbbb", None)
    assert _uids(first) - {"uid-7"} < _uids(a)
    assert _uids(second) < _uids(b)
    assert [len(g.addresses) for g in (a, b, new)] == [100, 100, 9]
    assert _uids(a) | _uids(b) | _uids(new) == _uids(wanted)
    assert plan.deletes == []


def test_a_slice_whose_endpoints_all_went_is_rewritten_rather_than_recreated() -> None:
    existing = [_existing("web-aaaaa", _group(range(3)))]
    plan = plan_slices(existing, [_group(range(10, 13))])
    [(name, group)] = plan.writes
    assert name == "web-aaaaa"
    assert _uids(group) == {"uid-10", "uid-11", "uid-12"}


def test_a_service_without_endpoints_keeps_one_placeholder_slice() -> None:
    placeholder = _existing("web-ppppp", EndpointGroup((), ()))
    emptied = plan_slices([_existing("web-aaaaa", _group(range(3))), placeholder], [])
    assert emptied.writes == [("web-ppppp", EndpointGroup((), ()))]
    assert emptied.deletes == ["web-aaaaa"]
    assert plan_slices([], []).writes == [(None, EndpointGroup((), ()))]


def test_an_endpoints_object_keeps_1000_addresses_and_says_it_was_truncated() -> None:
    service = {"metadata": {"name": "web", "namespace": "shop"}, "spec": {}}
    big = endpoints_object(service, [_group(range(1001))])
    assert sum(len(s["addresses"]) for s in big["subsets"]) == 1000
    assert big["metadata"]["annotations"] == {"endpoints.kubernetes.io/over-capacity": "truncated"}
    small = endpoints_object(service, [_group(range(1000))])
    assert "annotations" not in small["metadata"]


def test_truncation_cuts_not_ready_addresses_before_ready_ones() -> None:
    ready, not_ready = _group(range(900)), _group(range(900, 1200), ready=False)
    subsets = endpoints_subsets([EndpointGroup(HTTP, ready.addresses + not_ready.addresses)])
    assert truncate_subsets(subsets)
    [subset] = subsets
    assert (len(subset["addresses"]), len(subset["notReadyAddresses"])) == (900, 100)


def test_truncation_shares_the_capacity_between_subsets_by_size() -> None:
    other = (EndpointPort("http", 8081, "TCP"),)
    groups = [
        _group(range(1500)),
        EndpointGroup(other, tuple(_address(i) for i in range(1500, 2000))),
    ]
    subsets = endpoints_subsets(groups)
    assert truncate_subsets(subsets)
    assert [len(s["addresses"]) for s in subsets] == [750, 250]
    assert all("notReadyAddresses" not in s for s in subsets)
