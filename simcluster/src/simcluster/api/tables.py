"""Server-side printing: the `Table` responses kubectl asks for, with its usual columns."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import orjson

from simcluster.resources import ResourceType

Obj = dict[str, Any]
Cell = str | int
# (name, type, priority): priority 1 columns show only with ``-o wide``.
Column = tuple[str, str, int]


def wants_table(accept: str | None) -> bool:
    """Tell whether the ``Accept`` header asks for a ``meta.k8s.io`` Table (as kubectl get does)."""
    return accept is not None and "as=Table" in accept and "g=meta.k8s.io" in accept


def human_duration(seconds: float) -> str:
    """An age as the apiserver prints it (``duration.HumanDuration``): 45s, 3m20s, 5h, 12d."""
    s = int(seconds)
    if s < 0:
        return "0s"
    if s < 120:
        return f"{s}s"
    minutes, hours, days = s // 60, s // 3600, s // 86400
    if minutes < 10:
        return f"{minutes}m{s % 60}s" if s % 60 else f"{minutes}m"
    if minutes < 180:
        return f"{minutes}m"
    if hours < 8:
        return f"{hours}h{minutes % 60}m" if minutes % 60 else f"{hours}h"
    if hours < 48:
        return f"{hours}h"
    if hours < 192:
        return f"{days}d{hours % 24}h" if hours % 24 else f"{days}d"
    if days < 730:
        return f"{days}d"
    return f"{days // 365}y{days % 365}d" if days < 2920 and days % 365 else f"{days // 365}y"


def _pod_status(pod: Obj) -> str:
    if pod["metadata"].get("deletionTimestamp"):
        return "Terminating"
    status = pod.get("status") or {}
    for container in status.get("containerStatuses") or []:
        state = container.get("state") or {}
        reason = (state.get("waiting") or {}).get("reason") or (state.get("terminated") or {}).get(
            "reason"
        )
        if reason:
            return str(reason)
    return str(status.get("phase") or "Pending")


def _pod_row(pod: Obj) -> list[Cell]:
    statuses = (pod.get("status") or {}).get("containerStatuses") or []
    containers = len(pod["spec"].get("containers") or [])
    ready = sum(1 for c in statuses if c.get("ready"))
    restarts = sum(int(c.get("restartCount") or 0) for c in statuses)
    status = pod.get("status") or {}
    node = pod["spec"].get("nodeName") or "<none>"
    return [
        f"{ready}/{containers}",
        _pod_status(pod),
        restarts,
        status.get("podIP") or "<none>",
        node,
    ]


def _ports(service: Obj) -> str:
    parts = []
    for port in service["spec"].get("ports") or []:
        node_port = f":{port['nodePort']}" if port.get("nodePort") else ""
        parts.append(f"{port.get('port')}{node_port}/{port.get('protocol', 'TCP')}")
    return ",".join(parts) or "<none>"


def _selector(selector: Mapping[str, str] | None) -> str:
    return ",".join(f"{k}={v}" for k, v in (selector or {}).items()) or "<none>"


def _service_row(service: Obj) -> list[Cell]:
    spec = service["spec"]
    ingress = ((service.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []
    external = ",".join(i.get("ip") or i.get("hostname", "") for i in ingress)
    external = external or ",".join(spec.get("externalIPs") or []) or "<none>"
    return [
        spec.get("type", "ClusterIP"),
        spec.get("clusterIP") or "<none>",
        external if spec.get("type") == "LoadBalancer" or external != "<none>" else "<none>",
        _ports(service),
        _selector(spec.get("selector")),
    ]


def _workload_counts(obj: Obj, *keys: str) -> list[Cell]:
    status = obj.get("status") or {}
    return [int(status.get(key) or 0) for key in keys]


def _daemonset_row(ds: Obj) -> list[Cell]:
    counts = _workload_counts(
        ds,
        "desiredNumberScheduled",
        "currentNumberScheduled",
        "numberReady",
        "updatedNumberScheduled",
        "numberAvailable",
    )
    node_selector = ds["spec"]["template"]["spec"].get("nodeSelector")
    return [*counts, _selector(node_selector)]


def _deployment_row(deploy: Obj) -> list[Cell]:
    ready, updated, available = _workload_counts(
        deploy, "readyReplicas", "updatedReplicas", "availableReplicas"
    )
    return [f"{ready}/{deploy['spec'].get('replicas', 1)}", updated, available]


def _replicaset_row(rs: Obj) -> list[Cell]:
    return [int(rs["spec"].get("replicas", 1)), *_workload_counts(rs, "replicas", "readyReplicas")]


def _node_row(node: Obj) -> list[Cell]:
    conditions = (node.get("status") or {}).get("conditions") or []
    ready: Obj = next((c for c in conditions if c.get("type") == "Ready"), {})
    status = "Ready" if ready.get("status") == "True" else "NotReady"
    if node.get("spec", {}).get("unschedulable"):
        status += ",SchedulingDisabled"
    labels = node["metadata"].get("labels") or {}
    prefix = "node-role.kubernetes.io/"
    roles = ",".join(sorted(k[len(prefix) :] for k in labels if k.startswith(prefix)))
    version = ((node.get("status") or {}).get("nodeInfo") or {}).get("kubeletVersion", "")
    return [status, roles or "<none>", version]


def _endpointslice_row(eps: Obj) -> list[Cell]:
    ports = ",".join(str(p.get("port")) for p in eps.get("ports") or []) or "<unset>"
    addresses = [a for e in eps.get("endpoints") or [] for a in e.get("addresses") or []]
    shown = ",".join(addresses[:3]) + (
        f" + {len(addresses) - 3} more..." if len(addresses) > 3 else ""
    )
    return [eps.get("addressType", ""), ports, shown or "<unset>"]


def _namespace_row(ns: Obj) -> list[Cell]:
    return [str((ns.get("status") or {}).get("phase") or "Active")]


def _event_row(event: Obj, now: datetime) -> list[Cell]:
    involved = event.get("involvedObject") or {}
    last = (
        event.get("lastTimestamp")
        or event.get("eventTime")
        or event["metadata"].get("creationTimestamp")
    )
    return [
        _since(last, now),
        event.get("type", ""),
        event.get("reason", ""),
        f"{str(involved.get('kind', '')).lower()}/{involved.get('name', '')}",
        event.get("message", ""),
    ]


_EVENT_COLUMNS: list[Column] = [
    ("Last Seen", "string", 0),
    ("Type", "string", 0),
    ("Reason", "string", 0),
    ("Object", "string", 0),
    ("Message", "string", 0),
]


_STRING = "string"
_INT = "integer"
# Per kind: the columns between Name and Age (then wide-only ones), and how to fill them.
_PRINTERS: dict[str, tuple[list[Column], list[Column], Callable[[Obj], list[Cell]]]] = {
    "Pod": (
        [("Ready", _STRING, 0), ("Status", _STRING, 0), ("Restarts", _INT, 0)],
        [("IP", _STRING, 1), ("Node", _STRING, 1)],
        _pod_row,
    ),
    "Service": (
        [
            ("Type", _STRING, 0),
            ("Cluster-IP", _STRING, 0),
            ("External-IP", _STRING, 0),
            ("Port(s)", _STRING, 0),
        ],
        [("Selector", _STRING, 1)],
        _service_row,
    ),
    "DaemonSet": (
        [
            ("Desired", _INT, 0),
            ("Current", _INT, 0),
            ("Ready", _INT, 0),
            ("Up-to-date", _INT, 0),
            ("Available", _INT, 0),
            ("Node Selector", _STRING, 0),
        ],
        [],
        _daemonset_row,
    ),
    "Deployment": (
        [("Ready", _STRING, 0), ("Up-to-date", _INT, 0), ("Available", _INT, 0)],
        [],
        _deployment_row,
    ),
    "ReplicaSet": (
        [("Desired", _INT, 0), ("Current", _INT, 0), ("Ready", _INT, 0)],
        [],
        _replicaset_row,
    ),
    "Node": (
        [("Status", _STRING, 0), ("Roles", _STRING, 0)],
        [("Version", _STRING, 1)],
        _node_row,
    ),
    "EndpointSlice": (
        [("AddressType", _STRING, 0), ("Ports", _STRING, 0), ("Endpoints", _STRING, 0)],
        [],
        _endpointslice_row,
    ),
    "Namespace": ([("Status", _STRING, 0)], [], _namespace_row),
}


def _since(stamp: object, now: datetime) -> str:
    if not stamp:
        return "<unknown>"
    then = datetime.fromisoformat(str(stamp).replace("Z", "+00:00"))
    return human_duration((now - then).total_seconds())


def _layout(rt: ResourceType) -> tuple[list[Column], Callable[[Obj, datetime], list[Cell]]]:
    """The columns of a kind's table and how to fill a row."""
    if rt.kind == "Event":
        return _EVENT_COLUMNS, _event_row
    middle, wide, cells = _PRINTERS.get(rt.kind, ([], [], lambda _obj: []))

    def row(obj: Obj, now: datetime) -> list[Cell]:
        values = cells(obj)
        name, age = obj["metadata"]["name"], _since(obj["metadata"].get("creationTimestamp"), now)
        return [name, *values[: len(middle)], age, *values[len(middle) :]]

    return [("Name", _STRING, 0), *middle, ("Age", _STRING, 0), *wide], row


def table_body(
    rt: ResourceType, items: list[bytes], *, resource_version: int, now: datetime
) -> bytes:
    """Render objects as a ``meta.k8s.io/v1`` Table (columns as kubectl shows them).

    Args:
        rt: The listed type.
        items: Stored objects, serialized.
        resource_version: The list's revision.
        now: The time ages are measured to.
    """
    columns, row = _layout(rt)
    rows = []
    for raw in items:
        obj = orjson.loads(raw)
        rows.append(
            {
                "cells": row(obj, now),
                "object": {
                    "kind": "PartialObjectMetadata",
                    "apiVersion": "meta.k8s.io/v1",
                    "metadata": obj["metadata"],
                },
            }
        )
    return orjson.dumps(
        {
            "kind": "Table",
            "apiVersion": "meta.k8s.io/v1",
            "metadata": {"resourceVersion": str(resource_version)},
            "columnDefinitions": [
                {
                    "name": name,
                    "type": type_,
                    "format": "name" if name == "Name" else "",
                    "description": "",
                    "priority": priority,
                }
                for name, type_, priority in columns
            ],
            "rows": rows,
        }
    )
