"""The preventive flows' reports: the health checks' table, the backup's summary, the daily one."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from flows.maintenance.backup import BackupResult
from flows.maintenance.health import Check, Status
from flows.maintenance.observe import Snapshot
from flows.maintenance.report import (
    render_backup_report,
    render_health_report,
    render_service_report,
)
from integrations.kubernetes.views import (
    EndpointSlice,
    Pod,
    Service,
    parse_endpoint_slice,
    parse_pod,
    parse_service,
)

TAKEN_AT = datetime(2024, 5, 1, 6, 0, 42, tzinfo=UTC)


def service(
    name: str, kind: str = "ClusterIP", selector: dict[str, str] | None = None, ns: str = "shop"
) -> Service:
    spec: dict[str, Any] = {
        "type": kind,
        "selector": {"app": name} if selector is None else selector,
    }
    return parse_service({"metadata": {"name": name, "namespace": ns}, "spec": spec})


def ready_slice(name: str, ns: str = "shop") -> EndpointSlice:
    meta = {"name": f"{name}-x1", "namespace": ns, "labels": {"kubernetes.io/service-name": name}}
    endpoints = [{"addresses": ["10.244.1.7"], "conditions": {"ready": True}}]
    return parse_endpoint_slice({"metadata": meta, "endpoints": endpoints})


def proxy_pod(
    name: str,
    node: str | None,
    phase: str = "Running",
    ready: bool = True,
    restarts: tuple[int, ...] = (0,),
) -> Pod:
    """A kube-proxy pod with one container per entry of ``restarts``."""
    containers = [
        {"name": f"c{i}", "ready": ready, "restartCount": n} for i, n in enumerate(restarts)
    ]
    status = {
        "phase": phase,
        "conditions": [{"type": "Ready", "status": str(ready)}],
        "containerStatuses": containers,
    }
    meta = {"name": name, "namespace": "kube-system"}
    return parse_pod({"metadata": meta, "spec": {"nodeName": node}, "status": status})


def snapshot(
    services: tuple[Service, ...] = (),
    slices: tuple[EndpointSlice, ...] = (),
    pods: tuple[Pod, ...] = (),
) -> Snapshot:
    return Snapshot(services=services, slices=slices, kube_proxy=None, kube_proxy_pods=pods)


def lines(report: str, heading: str) -> list[str]:
    """The non-blank lines of the section under ``heading``, up to the next heading."""
    section = report.split(f"## {heading}\n", 1)[1].split("\n## ", 1)[0]
    return [line for line in section.splitlines() if line]


def test_the_whole_report_for_a_small_cluster() -> None:
    report = render_service_report(
        snapshot(
            services=(service("web"), service("cart"), service("kubernetes", selector={})),
            slices=(ready_slice("web"),),
            pods=(
                proxy_pod("kube-proxy-b2", "node-b", restarts=(2,)),
                proxy_pod("kube-proxy-a1", "node-a"),
            ),
        ),
        taken_at=TAKEN_AT,
    )

    assert report == (
        "# Service report, 2024-05-01T06:00+00:00\n"
        "\n"
        "**3 Services**: 3 ClusterIP\n"
        "\n"
        "## Services without ready endpoints\n"
        "\n"
        "- shop/cart (selector app=cart)\n"
        "\n"
        "## kube-proxy\n"
        "\n"
        "| node | pod | phase | ready | restarts |\n"
        "| --- | --- | --- | --- | --- |\n"
        "| node-a | kube-proxy-a1 | Running | yes | 0 |\n"
        "| node-b | kube-proxy-b2 | Running | yes | 2 |\n"
    )


@pytest.mark.parametrize(
    ("kinds", "summary"),
    [
        (["ClusterIP"], "**1 Services**: 1 ClusterIP"),
        (["NodePort", "ClusterIP", "ClusterIP"], "**3 Services**: 2 ClusterIP, 1 NodePort"),
        (
            ["LoadBalancer", "ExternalName", "NodePort", "ClusterIP", "LoadBalancer"],
            "**5 Services**: 1 ClusterIP, 1 ExternalName, 2 LoadBalancer, 1 NodePort",
        ),
    ],
    ids=["one type", "two types", "every type, sorted by name"],
)
def test_services_are_counted_by_type(kinds: list[str], summary: str) -> None:
    services = tuple(service(f"svc-{i}", kind) for i, kind in enumerate(kinds))

    report = render_service_report(snapshot(services=services), taken_at=TAKEN_AT)

    assert report.splitlines()[2] == summary


@pytest.mark.parametrize(
    ("services", "slices", "expected"),
    [
        ((service("web"),), (ready_slice("web"),), ["None."]),
        ((service("kubernetes", selector={}), service("db", "ExternalName")), (), ["None."]),
        ((), (), ["None."]),
        (
            (service("web", selector={"tier": "front", "app": "web"}),),
            (),
            ["- shop/web (selector app=web,tier=front)"],
        ),
        (
            (service("web"), service("cart"), service("api", ns="edge")),
            (ready_slice("cart"),),
            ["- shop/web (selector app=web)", "- edge/api (selector app=api)"],
        ),
    ],
    ids=[
        "all have endpoints",
        "selector-less and ExternalName are left out",
        "no services",
        "selector keys sorted",
        "several, in the snapshot's order",
    ],
)
def test_services_without_ready_endpoints_are_listed_with_their_selector(
    services: tuple[Service, ...], slices: tuple[EndpointSlice, ...], expected: list[str]
) -> None:
    report = render_service_report(snapshot(services, slices), taken_at=TAKEN_AT)

    assert lines(report, "Services without ready endpoints") == expected


@pytest.mark.parametrize(
    ("pods", "rows"),
    [
        ((), []),
        (
            (proxy_pod("kube-proxy-c", "node-c"), proxy_pod("kube-proxy-a", "node-a")),
            [
                "| node-a | kube-proxy-a | Running | yes | 0 |",
                "| node-c | kube-proxy-c | Running | yes | 0 |",
            ],
        ),
        (
            (proxy_pod("kube-proxy-b", "node-b", "Running", ready=False, restarts=(7,)),),
            ["| node-b | kube-proxy-b | Running | no | 7 |"],
        ),
        (
            (
                proxy_pod("kube-proxy-z", "node-z"),
                proxy_pod("kube-proxy-p", None, "Pending", False),
            ),
            [
                "| ? | kube-proxy-p | Pending | no | 0 |",
                "| node-z | kube-proxy-z | Running | yes | 0 |",
            ],
        ),
        (
            (proxy_pod("kube-proxy-a", "node-a", restarts=(3, 9)),),
            ["| node-a | kube-proxy-a | Running | yes | 12 |"],
        ),
    ],
    ids=[
        "no pods",
        "sorted by node",
        "not ready with restarts",
        "unscheduled pod first",
        "restarts summed over containers",
    ],
)
def test_the_kube_proxy_table_has_a_row_per_pod_sorted_by_node(
    pods: tuple[Pod, ...], rows: list[str]
) -> None:
    report = render_service_report(snapshot(pods=pods), taken_at=TAKEN_AT)

    table = lines(report, "kube-proxy")
    assert table[:2] == [
        "| node | pod | phase | ready | restarts |",
        "| --- | --- | --- | --- | --- |",
    ]
    assert table[2:] == rows


def test_the_title_gives_the_time_to_the_minute() -> None:
    report = render_service_report(snapshot(), taken_at=TAKEN_AT)

    assert report.startswith("# Service report, 2024-05-01T06:00+00:00\n")


def test_the_health_report_has_the_status_and_a_row_per_check() -> None:
    checks = [
        Check("services listable", Status.OK, "12 Services"),
        Check("kube-proxy pods ready", Status.FAILED, "4/5 Running and Ready"),
    ]

    lines = render_health_report(checks, Status.FAILED).splitlines()

    assert lines[0] == "# Cluster health: failed"
    assert lines[-2:] == [
        "| services listable | ok | 12 Services |",
        "| kube-proxy pods ready | failed | 4/5 Running and Ready |",
    ]


@pytest.mark.parametrize(
    ("pruned", "last"),
    [
        pytest.param((), "| endpoints.yaml | 9 |", id="nothing pruned"),
        pytest.param(
            ("20240429T060000Z",),
            "Removed older backups: 20240429T060000Z",
            id="one pruned",
        ),
    ],
)
def test_the_backup_report_names_the_directory_the_files_and_what_was_pruned(
    pruned: tuple[str, ...], last: str
) -> None:
    result = BackupResult(
        Path("/backups/20240501T060042Z"), {"services.yaml": 12, "endpoints.yaml": 9}, pruned
    )

    lines = render_backup_report(result).splitlines()

    assert lines[0] == "# Configuration backup in `/backups/20240501T060042Z`"
    assert "| services.yaml | 12 |" in lines
    assert "| endpoints.yaml | 9 |" in lines
    assert lines[-1] == last
