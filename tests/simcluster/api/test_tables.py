"""Server-side Tables: the columns and ages kubectl prints, as the apiserver renders them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest

from simcluster import resources
from simcluster.api.tables import human_duration, table_body, wants_table

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("seconds", "printed"),
    [
        (0, "0s"),
        (45, "45s"),
        (119, "119s"),
        (200, "3m20s"),
        (540, "9m"),
        (3000, "50m"),
        (3 * 3600 + 600, "3h10m"),
        (20 * 3600, "20h"),
        (3 * 86400 + 5 * 3600, "3d5h"),
        (40 * 86400, "40d"),
        (800 * 86400, "2y70d"),
    ],
)
def test_ages_print_like_kubectl(seconds: int, printed: str) -> None:
    assert human_duration(seconds) == printed


@pytest.mark.parametrize(
    ("accept", "wanted"),
    [
        ("application/json;as=Table;v=v1;g=meta.k8s.io,application/json", True),
        ("application/json", False),
        (None, False),
    ],
)
def test_tables_are_served_only_when_asked_for(accept: str | None, wanted: bool) -> None:
    assert wants_table(accept) is wanted


def _pod(name: str, *, waiting: str | None = None, restarts: int = 0) -> bytes:
    state: dict[str, Any] = {"waiting": {"reason": waiting}} if waiting else {"running": {}}
    return orjson.dumps(
        {
            "metadata": {
                "name": name,
                "namespace": "kube-system",
                "creationTimestamp": (NOW - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            },
            "spec": {"nodeName": "node-2", "containers": [{"name": "kube-proxy"}]},
            "status": {
                "phase": "Running",
                "podIP": "172.18.0.3",
                "containerStatuses": [
                    {"ready": not waiting, "restartCount": restarts, "state": state}
                ],
            },
        }
    )


def test_pod_rows_show_readiness_status_restarts_and_age() -> None:
    table = orjson.loads(
        table_body(
            resources.PODS,
            [_pod("kube-proxy-a"), _pod("kube-proxy-b", waiting="CrashLoopBackOff", restarts=4)],
            resource_version=9,
            now=NOW,
        )
    )
    assert table["kind"] == "Table"
    assert [c["name"] for c in table["columnDefinitions"]] == [
        "Name", "Ready", "Status", "Restarts", "Age", "IP", "Node"
    ]  # fmt: skip
    assert [row["cells"] for row in table["rows"]] == [
        ["kube-proxy-a", "1/1", "Running", 0, "5m", "172.18.0.3", "node-2"],
        ["kube-proxy-b", "0/1", "CrashLoopBackOff", 4, "5m", "172.18.0.3", "node-2"],
    ]
    assert table["rows"][0]["object"]["metadata"]["namespace"] == "kube-system"


def test_kinds_without_a_printer_show_name_and_age() -> None:
    raw = orjson.dumps({"metadata": {"name": "cm", "creationTimestamp": "2026-01-01T11:59:30Z"}})
    table = orjson.loads(table_body(resources.CONFIGMAPS, [raw], resource_version=1, now=NOW))
    assert table["rows"][0]["cells"] == ["cm", "30s"]
