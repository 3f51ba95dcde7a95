"""Unit tests of `flows.maintenance.snapshot` and `flows.maintenance.health`."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from flows.maintenance.health import Check, Status, check_health, worst
from flows.maintenance.observe import ConntrackUse, Snapshot
from integrations.kubernetes.views import (
    DaemonSet,
    EndpointSlice,
    Pod,
    Service,
    parse_daemon_set,
    parse_endpoint_slice,
    parse_pod,
    parse_service,
)

OK, WARNING, FAILED = Status.OK, Status.WARNING, Status.FAILED
NO_SELECTOR: dict[str, str] = {}
UNSET = None  # an endpoint whose `ready` condition the server left unset
LIMIT = 262144
T = 100_000  # the handbook's conntrack threshold
FULL = "table nearly full"


def service(name: str, ns: str = "default", selector: dict[str, str] | None = None) -> Service:
    ip = "10.96.0.10" if name == "kube-dns" else "10.96.0.20"
    spec = {"clusterIP": ip, "selector": {"app": name} if selector is None else selector}
    return parse_service({"metadata": {"name": name, "namespace": ns}, "spec": spec})


def slice_of(
    name: str, ns: str = "default", *, ready: list[bool | None], ips: int = 1
) -> EndpointSlice:
    conditions = [{} if flag is None else {"ready": flag} for flag in ready]
    endpoints = [
        {"addresses": [f"10.244.{i}.{j}" for j in range(ips)], "conditions": condition}
        for i, condition in enumerate(conditions)
    ]
    labels = {"kubernetes.io/service-name": name}
    meta = {"name": f"{name}-abcde", "namespace": ns, "labels": labels}
    return parse_endpoint_slice({"metadata": meta, "addressType": "IPv4", "endpoints": endpoints})


def kube_proxy(desired: int) -> DaemonSet:
    meta = {"name": "kube-proxy", "namespace": "kube-system"}
    return parse_daemon_set({"metadata": meta, "status": {"desiredNumberScheduled": desired}})


def proxy_pod(
    node: str | None, phase: str = "Running", *, ready: bool = True, deleting: bool = False
) -> Pod:
    meta: dict[str, Any] = {"name": f"kube-proxy-{node or 'x'}", "namespace": "kube-system"}
    if deleting:
        meta["deletionTimestamp"] = "2024-05-01T06:00:00Z"
    conditions = [{"type": "Ready", "status": "True" if ready else "False"}]
    status = {"phase": phase, "conditions": conditions}
    return parse_pod({"metadata": meta, "spec": {"nodeName": node}, "status": status})


READY_A, READY_B = proxy_pod("node-a"), proxy_pod("node-b")
TERMINATING = proxy_pod("node-c", ready=False, deleting=True)
NOT_READY_B = proxy_pod("node-b", ready=False)
PENDING_A, FAILED_NOWHERE = proxy_pod("node-a", "Pending", ready=False), proxy_pod(None, "Failed")
READY = "Running and Ready"
NOT_READY = "kube-proxy-node-b on node-b (Running)"
NOT_RUNNING = "kube-proxy-node-a on node-a (Pending), kube-proxy-x on ? (Failed)"
DNS = service("kube-dns", "kube-system", selector={"k8s-app": "kube-dns"})
EXTERNAL = {"type": "ExternalName", "externalName": "db.example.com", "selector": {"app": "web"}}
EXTERNAL_NAME = parse_service(
    {"metadata": {"name": "web", "namespace": "default"}, "spec": EXTERNAL}
)
HEALTHY = Snapshot(
    services=(service("kubernetes", selector=NO_SELECTOR), service("web"), DNS),
    slices=(slice_of("web", ready=[True]), slice_of("kube-dns", "kube-system", ready=[True, True])),
    kube_proxy=kube_proxy(2),
    kube_proxy_pods=(READY_A, READY_B),
    conntrack=(ConntrackUse("node-a", 1200, LIMIT),),
)


def outcome(snapshot: Snapshot, name: str, threshold: int = T) -> tuple[Status, str]:
    checks = check_health(snapshot, conntrack_threshold=threshold)
    return next((c.status, c.detail) for c in checks if c.name == name)


def test_a_healthy_cluster_passes_every_check_and_is_ok_overall() -> None:
    checks = check_health(HEALTHY)

    assert checks == [
        Check("services listable", OK, "3 Services"),
        Check("services without ready endpoints", OK, "none"),
        Check("kube-proxy pods ready", OK, "2/2 Running and Ready"),
        Check("cluster DNS endpoints", OK, "kube-dns (10.96.0.10): 2 ready"),
        Check("conntrack entries on node-a", OK, f"1200 of {LIMIT}"),
    ]
    assert worst(checks) is OK


@pytest.mark.parametrize(
    ("slices", "expected"),
    [
        pytest.param([slice_of("web", ready=[True])], 1, id="ready endpoint counts"),
        pytest.param([slice_of("web", ready=[UNSET])], 1, id="unset ready counts as ready"),
        pytest.param([slice_of("web", ready=[False])], 0, id="ready false does not count"),
        pytest.param([slice_of("web", ready=[True, False, UNSET])], 2, id="mixed conditions"),
        pytest.param([slice_of("web", ready=[True], ips=3)], 3, id="each address counts"),
        pytest.param([slice_of("web", ready=[True])] * 3, 3, id="summed over slices"),
        pytest.param([slice_of("web", "other", ready=[True])], 0, id="other namespace"),
        pytest.param([slice_of("api", ready=[True])], 0, id="another service"),
        pytest.param([], 0, id="no slice"),
    ],
)
def test_ready_addresses_counts_ready_addresses_of_the_services_own_slices(
    slices: list[EndpointSlice], expected: int
) -> None:
    assert replace(HEALTHY, slices=tuple(slices)).ready_addresses(service("web")) == expected


@pytest.mark.parametrize(
    ("svc", "ready", "listed"),
    [
        (service("web"), [], True),
        (service("web"), [False, False], True),
        (service("web"), [UNSET], False),
        (service("web"), [True], False),
        (service("web", selector=NO_SELECTOR), [], False),
        (EXTERNAL_NAME, [], False),
    ],
    ids=["no slice", "only not-ready", "ready unset", "ready", "selector-less", "ExternalName"],
)
def test_without_endpoints_lists_only_selecting_services_with_no_ready_endpoint(
    svc: Service, ready: list[bool | None], listed: bool
) -> None:
    slices = (slice_of("web", ready=ready),) if ready else ()
    snapshot = replace(HEALTHY, services=(svc,), slices=slices)

    assert snapshot.without_endpoints() == ([svc] if listed else [])


@pytest.mark.parametrize(
    ("services", "expected"),
    [((service("web"), DNS), DNS), ((service("kube-dns"),), None), ((), None)],
    ids=["kube-system/kube-dns", "kube-dns in another namespace", "no services"],
)
def test_dns_service_is_kube_dns_in_kube_system(
    services: tuple[Service, ...], expected: Service | None
) -> None:
    assert replace(HEALTHY, services=services).dns_service() == expected


DNS_NOT_READY = slice_of("kube-dns", "kube-system", ready=[False, False])
FIRST_TEN = ", ".join(f"default/svc-{i:02}" for i in range(10))


@pytest.mark.parametrize(
    ("count", "detail"),
    [(1, "1: default/svc-00"), (10, f"10: {FIRST_TEN}"), (13, f"13: {FIRST_TEN} and 3 more")],
    ids=["one", "ten", "more than ten"],
)
def test_services_without_endpoints_are_a_warning_listing_them(count: int, detail: str) -> None:
    empty = tuple(service(f"svc-{i:02}") for i in reversed(range(count)))
    snapshot = replace(HEALTHY, services=(*HEALTHY.services, *empty))

    assert outcome(snapshot, "services without ready endpoints") == (WARNING, detail)


@pytest.mark.parametrize(
    ("desired", "pods", "status", "detail"),
    [
        (None, (), FAILED, "no DaemonSet kube-system/kube-proxy"),
        (2, (READY_A, NOT_READY_B), FAILED, f"1/2 {READY}; not ready: {NOT_READY}"),
        (2, (PENDING_A, FAILED_NOWHERE), FAILED, f"0/2 {READY}; not ready: {NOT_RUNNING}"),
        (3, (READY_A, READY_B), FAILED, f"2/3 {READY}; not ready: missing pods"),
        (2, (READY_A, READY_B, TERMINATING), OK, f"2/2 {READY}"),
    ],
    ids=["DaemonSet missing", "pod not ready", "pods not running", "too few", "terminating"],
)
def test_kube_proxy_pods_must_all_be_running_and_ready(
    desired: int | None, pods: tuple[Pod, ...], status: Status, detail: str
) -> None:
    daemon_set = None if desired is None else kube_proxy(desired)
    snapshot = replace(HEALTHY, kube_proxy=daemon_set, kube_proxy_pods=pods)

    assert outcome(snapshot, "kube-proxy pods ready") == (status, detail)


@pytest.mark.parametrize(
    ("services", "slices", "expected"),
    [
        ((service("web"),), (), (WARNING, "no Service kube-system/kube-dns")),
        ((DNS,), (), (FAILED, "kube-dns (10.96.0.10): 0 ready")),
        ((DNS,), (DNS_NOT_READY,), (FAILED, "kube-dns (10.96.0.10): 0 ready")),
    ],
    ids=["no kube-dns Service", "no slice", "endpoints not ready"],
)
def test_cluster_dns_needs_kube_dns_with_a_ready_endpoint(
    services: tuple[Service, ...],
    slices: tuple[EndpointSlice, ...],
    expected: tuple[Status, str],
) -> None:
    snapshot = replace(HEALTHY, services=services, slices=slices)

    assert outcome(snapshot, "cluster DNS endpoints") == expected


@pytest.mark.parametrize(
    ("count", "limit", "threshold", "status", "detail"),
    [
        pytest.param(1200, LIMIT, T, OK, f"1200 of {LIMIT}", id="below threshold"),
        pytest.param(T, LIMIT, T, OK, f"100000 of {LIMIT}", id="at threshold"),
        pytest.param(T + 1, LIMIT, T, WARNING, f"100001 of {LIMIT}: above {T}", id="above"),
        pytest.param(235_929, LIMIT, T, WARNING, f"235929 of {LIMIT}: above {T}", id="<90%"),
        pytest.param(235_930, LIMIT, T, FAILED, f"235930 of {LIMIT}: {FULL}", id="at 90%"),
        pytest.param(LIMIT, LIMIT, T, FAILED, f"{LIMIT} of {LIMIT}: {FULL}", id="full"),
        pytest.param(900, 1000, T, FAILED, f"900 of 1000: {FULL}", id="90% below threshold"),
        pytest.param(5, None, T, OK, "5", id="limit unknown"),
        pytest.param(51, 1000, 50, WARNING, "51 of 1000: above 50", id="custom low threshold"),
        pytest.param(200_000, 10**6, 5 * T, OK, "200000 of 1000000", id="custom high threshold"),
    ],
)
def test_conntrack_use_is_judged_against_threshold_and_limit(
    count: int, limit: int | None, threshold: int, status: Status, detail: str
) -> None:
    snapshot = replace(HEALTHY, conntrack=(ConntrackUse("node-a", count, limit),))

    assert outcome(snapshot, "conntrack entries on node-a", threshold) == (status, detail)


@pytest.mark.parametrize(
    ("problem", "detail"),
    [("kube-proxy pod kube-proxy-a not Ready",) * 2, (None, "not read")],
    ids=["its problem", "no problem given"],
)
def test_an_unreadable_node_is_a_warning_with_its_problem(problem: str | None, detail: str) -> None:
    snapshot = replace(HEALTHY, conntrack=(ConntrackUse("node-a", None, None, problem),))

    assert outcome(snapshot, "conntrack entries on node-a") == (WARNING, detail)


def test_conntrack_checks_are_sorted_by_node() -> None:
    uses = tuple(ConntrackUse(node, 10, 1000) for node in ("node-c", "node-a", "node-b"))

    names = [c.name for c in check_health(replace(HEALTHY, conntrack=uses))]

    assert names[-3:] == [f"conntrack entries on node-{n}" for n in "abc"]


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        ([], OK),
        ([OK, OK], OK),
        ([OK, WARNING, OK], WARNING),
        ([WARNING, FAILED, OK], FAILED),
        ([FAILED, WARNING], FAILED),
    ],
    ids=["no checks", "all ok", "one warning", "failed among others", "failed first"],
)
def test_worst_is_the_most_severe_status(statuses: list[Status], expected: Status) -> None:
    assert worst([Check(f"check {i}", s, "") for i, s in enumerate(statuses)]) is expected


def test_a_cluster_with_warnings_and_a_failure_is_failed_overall() -> None:
    checks = check_health(replace(HEALTHY, services=(service("web"),), slices=(), kube_proxy=None))

    assert [c.status for c in checks] == [OK, WARNING, FAILED, WARNING, OK]
    assert worst(checks) is FAILED
