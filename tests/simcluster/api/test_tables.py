"""Server-side Tables: the columns and cells kubectl prints, as kube-apiserver 1.30 renders them."""

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


CREATED = (NOW - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _stamp(minutes_ago: float) -> str:
    return (NOW - timedelta(minutes=minutes_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _table(rt: resources.ResourceType, *objects: dict[str, Any]) -> dict[str, Any]:
    raws = [orjson.dumps(obj) for obj in objects]
    table: dict[str, Any] = orjson.loads(table_body(rt, raws, resource_version=9, now=NOW))
    return table


def _headers(table: dict[str, Any], *, wide: bool = True) -> list[str]:
    """The headers kubectl prints (priority-1 columns only with ``-o wide``)."""
    return [c["name"] for c in table["columnDefinitions"] if wide or c["priority"] == 0]


def _cells(table: dict[str, Any]) -> list[list[Any]]:
    return [row["cells"] for row in table["rows"]]


def _meta(name: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "namespace": "shop", "creationTimestamp": CREATED, **extra}


def _pod(
    name: str,
    *,
    waiting: str | None = None,
    restarts: int = 0,
    last_exit: str | None = None,
    deleting: bool = False,
) -> dict[str, Any]:
    state: dict[str, Any] = {"waiting": {"reason": waiting}} if waiting else {"running": {}}
    container: dict[str, Any] = {"ready": not waiting, "restartCount": restarts, "state": state}
    if last_exit:
        container["lastState"] = {"terminated": {"exitCode": 1, "finishedAt": last_exit}}
    meta = _meta(name, namespace="kube-system")
    if deleting:
        meta["deletionTimestamp"] = _stamp(-0.5)
    return {
        "metadata": meta,
        "spec": {"nodeName": "node-2", "containers": [{"name": "kube-proxy"}]},
        "status": {
            "phase": "Running",
            "podIP": "172.18.0.3",
            "podIPs": [{"ip": "172.18.0.3"}],
            "containerStatuses": [container],
        },
    }


def test_pods_show_ready_status_restarts_and_age_then_the_wide_columns() -> None:
    table = _table(
        resources.PODS,
        _pod("kube-proxy-a"),
        _pod("kube-proxy-b", waiting="CrashLoopBackOff", restarts=4, last_exit=_stamp(2)),
        _pod("kube-proxy-c", deleting=True),
    )
    assert table["kind"] == "Table"
    assert _headers(table, wide=False) == ["Name", "Ready", "Status", "Restarts", "Age"]
    assert _headers(table) == [
        "Name", "Ready", "Status", "Restarts", "Age",
        "IP", "Node", "Nominated Node", "Readiness Gates",
    ]  # fmt: skip
    assert _cells(table) == [
        ["kube-proxy-a", "1/1", "Running", "0", "5m", "172.18.0.3", "node-2", "<none>", "<none>"],
        [
            "kube-proxy-b", "0/1", "CrashLoopBackOff", "4 (2m ago)", "5m",
            "172.18.0.3", "node-2", "<none>", "<none>",
        ],
        [
            "kube-proxy-c", "1/1", "Terminating", "0", "5m",
            "172.18.0.3", "node-2", "<none>", "<none>",
        ],
    ]  # fmt: skip
    assert table["rows"][0]["object"]["metadata"]["namespace"] == "kube-system"
    assert table["columnDefinitions"][0]["format"] == "name"


def test_a_pod_waiting_for_its_init_container_shows_init_progress() -> None:
    pod = _pod("web-1")
    pod["spec"]["initContainers"] = [{"name": "migrate"}]
    pod["status"].update(
        phase="Pending",
        initContainerStatuses=[{"name": "migrate", "restartCount": 0, "state": {"running": {}}}],
        containerStatuses=[
            {"ready": False, "restartCount": 0, "state": {"waiting": {"reason": "PodInitializing"}}}
        ],
    )
    assert _cells(_table(resources.PODS, pod))[0][1:3] == ["0/1", "Init:0/1"]


def _endpoints(name: str, *subsets: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = {"metadata": _meta(name)}
    if subsets:
        body["subsets"] = list(subsets)
    return body


def _addresses(*ips: str) -> list[dict[str, str]]:
    return [{"ip": ip} for ip in ips]


def test_endpoints_show_up_to_three_ready_ip_ports_then_how_many_more() -> None:
    http = [{"name": "http", "port": 8080, "protocol": "TCP"}]
    table = _table(
        resources.ENDPOINTS,
        _endpoints(
            "web",
            {"addresses": _addresses("10.244.1.5", "10.244.2.7"), "ports": http},
            {"addresses": _addresses("10.244.3.2", "10.244.3.9"), "ports": http},
        ),
        _endpoints("two", {"addresses": _addresses("10.244.1.5", "10.244.2.7"), "ports": http}),
        _endpoints("nothing-selected"),
        _endpoints("headless", {"addresses": _addresses("10.244.1.8")}),
        _endpoints("v6", {"addresses": _addresses("fd00::5"), "ports": http}),
        _endpoints("none-ready", {"notReadyAddresses": _addresses("10.244.1.6"), "ports": http}),
    )
    assert _headers(table) == ["Name", "Endpoints", "Age"]
    assert _cells(table) == [
        ["web", "10.244.1.5:8080,10.244.2.7:8080,10.244.3.2:8080 + 1 more...", "5m"],
        ["two", "10.244.1.5:8080,10.244.2.7:8080", "5m"],
        ["nothing-selected", "<none>", "5m"],
        ["headless", "10.244.1.8", "5m"],
        ["v6", "[fd00::5]:8080", "5m"],
        # The apiserver lists only ready addresses; with none, the cell is empty.
        ["none-ready", "", "5m"],
    ]


def test_endpoint_slices_show_address_type_ports_and_endpoints() -> None:
    endpoints = [{"addresses": [f"10.244.1.{i}"]} for i in range(2, 7)]
    table = _table(
        resources.ENDPOINTSLICES,
        {
            "metadata": _meta("web-abcde"),
            "addressType": "IPv4",
            "ports": [{"name": "http", "port": 8080}, {"name": "metrics"}],
            "endpoints": endpoints,
        },
        {"metadata": _meta("idle-fghij"), "addressType": "IPv4", "ports": [], "endpoints": []},
    )
    assert _headers(table) == ["Name", "AddressType", "Ports", "Endpoints", "Age"]
    assert _cells(table) == [
        ["web-abcde", "IPv4", "8080,metrics", "10.244.1.2,10.244.1.3,10.244.1.4 + 2 more...", "5m"],
        ["idle-fghij", "IPv4", "<unset>", "<unset>", "5m"],
    ]


def test_services_show_type_addresses_ports_and_the_sorted_selector() -> None:
    def service(name: str, spec: dict[str, Any], status: dict[str, Any] | None = None) -> Any:
        return {"metadata": _meta(name), "spec": spec, "status": status or {}}

    table = _table(
        resources.SERVICES,
        service(
            "web",
            {
                "type": "ClusterIP",
                "clusterIP": "10.96.0.20",
                "clusterIPs": ["10.96.0.20"],
                "ports": [{"port": 80, "protocol": "TCP"}],
                "selector": {"tier": "front", "app": "web"},
            },
        ),
        service(
            "edge",
            {
                "type": "LoadBalancer",
                "clusterIP": "10.96.0.21",
                "ports": [{"port": 443, "nodePort": 30443, "protocol": "TCP"}],
            },
        ),
        service("db", {"type": "ExternalName", "externalName": "db.example.com"}),
    )
    assert _headers(table, wide=False) == [
        "Name", "Type", "Cluster-IP", "External-IP", "Port(s)", "Age"
    ]  # fmt: skip
    assert _cells(table) == [
        ["web", "ClusterIP", "10.96.0.20", "<none>", "80/TCP", "5m", "app=web,tier=front"],
        ["edge", "LoadBalancer", "10.96.0.21", "<pending>", "443:30443/TCP", "5m", "<none>"],
        ["db", "ExternalName", "<none>", "db.example.com", "<none>", "5m", "<none>"],
    ]


def test_nodes_show_the_kubelet_version_beside_status_roles_and_age() -> None:
    node = {
        "metadata": _meta("node-1", labels={"node-role.kubernetes.io/control-plane": ""}),
        "spec": {"unschedulable": True},
        "status": {
            "conditions": [{"type": "Ready", "status": "True"}],
            "addresses": [{"type": "InternalIP", "address": "172.18.0.2"}],
            "nodeInfo": {
                "kubeletVersion": "v1.30.6",
                "osImage": "Debian GNU/Linux 12 (bookworm)",
                "kernelVersion": "6.1.0",
                "containerRuntimeVersion": "containerd://1.7.22",
            },
        },
    }
    table = _table(resources.NODES, node)
    assert _headers(table, wide=False) == ["Name", "Status", "Roles", "Age", "Version"]
    assert _cells(table) == [
        [
            "node-1", "Ready,SchedulingDisabled", "control-plane", "5m", "v1.30.6",
            "172.18.0.2", "<none>", "Debian GNU/Linux 12 (bookworm)", "6.1.0",
            "containerd://1.7.22",
        ]
    ]  # fmt: skip


def _template(image: str) -> dict[str, Any]:
    return {"spec": {"containers": [{"name": "app", "image": image}]}}


def test_workloads_show_their_counters_then_containers_images_and_selector() -> None:
    selector = {"matchLabels": {"app": "web"}}
    daemonset = {
        "metadata": _meta("kube-proxy"),
        "spec": {"selector": selector, "template": _template("kube-proxy:v1.30.6")},
        "status": {
            "desiredNumberScheduled": 5,
            "currentNumberScheduled": 5,
            "numberReady": 4,
            "updatedNumberScheduled": 5,
            "numberAvailable": 4,
        },
    }
    deployment = {
        "metadata": _meta("web"),
        "spec": {"replicas": 3, "selector": selector, "template": _template("web:2")},
        "status": {"readyReplicas": 2, "updatedReplicas": 3, "availableReplicas": 2},
    }
    ds_table = _table(resources.DAEMONSETS, daemonset)
    assert _headers(ds_table, wide=False) == [
        "Name", "Desired", "Current", "Ready", "Up-to-date", "Available", "Node Selector", "Age"
    ]  # fmt: skip
    assert _cells(ds_table) == [
        ["kube-proxy", 5, 5, 4, 5, 4, "<none>", "5m", "app", "kube-proxy:v1.30.6", "app=web"]
    ]
    deploy_table = _table(resources.DEPLOYMENTS, deployment)
    assert _headers(deploy_table, wide=False) == ["Name", "Ready", "Up-to-date", "Available", "Age"]
    assert _cells(deploy_table) == [["web", "2/3", 3, 2, "5m", "app", "web:2", "app=web"]]


def test_a_controller_revision_names_its_owner_with_kind_and_group() -> None:
    revision = {
        "metadata": _meta(
            "kube-proxy-5d8f9c",
            ownerReferences=[
                {
                    "apiVersion": "apps/v1",
                    "kind": "DaemonSet",
                    "name": "kube-proxy",
                    "controller": True,
                }
            ],
        ),
        "revision": 2,
    }
    table = _table(resources.CONTROLLERREVISIONS, revision)
    assert _headers(table) == ["Name", "Controller", "Revision", "Age"]
    assert _cells(table) == [["kube-proxy-5d8f9c", "daemonset.apps/kube-proxy", 2, "5m"]]


def test_events_show_last_seen_type_reason_object_and_message() -> None:
    event = {
        "metadata": _meta("web-1.17f3"),
        "involvedObject": {"kind": "Pod", "name": "web-1", "fieldPath": "spec.containers{app}"},
        "type": "Warning",
        "reason": "BackOff",
        "message": "Back-off restarting failed container\n",
        "source": {"component": "kubelet", "host": "node-2"},
        "firstTimestamp": _stamp(10),
        "lastTimestamp": _stamp(1),
        "count": 7,
    }
    table = _table(resources.EVENTS, event)
    assert _headers(table, wide=False) == ["Last Seen", "Type", "Reason", "Object", "Message"]
    assert _cells(table) == [
        [
            "60s", "Warning", "BackOff", "pod/web-1", "spec.containers{app}", "kubelet, node-2",
            "Back-off restarting failed container", "10m", 7, "web-1.17f3",
        ]
    ]  # fmt: skip


def test_config_maps_count_their_keys() -> None:
    cm = {"metadata": _meta("kube-proxy"), "data": {"config.conf": "", "kubeconfig.conf": ""}}
    table = _table(resources.CONFIGMAPS, cm)
    assert _headers(table) == ["Name", "Data", "Age"]
    assert _cells(table) == [["kube-proxy", 2, "5m"]]


def test_kinds_without_a_printer_show_name_and_creation_time() -> None:
    table = _table(
        resources.CLUSTERROLES, {"metadata": {"name": "view", "creationTimestamp": CREATED}}
    )
    assert _headers(table) == ["Name", "Created At"]
    assert _cells(table) == [["view", CREATED]]


def test_custom_resources_show_name_and_age() -> None:
    table = _table(resources.SERVICEMONITORS, {"metadata": _meta("engine")})
    assert [(c["name"], c["type"]) for c in table["columnDefinitions"]] == [
        ("Name", "string"),
        ("Age", "date"),
    ]
    assert _cells(table) == [["engine", "5m"]]


def test_role_bindings_show_the_role_then_users_groups_and_service_accounts() -> None:
    binding = {
        "metadata": _meta("engine-reads"),
        "roleRef": {"kind": "ClusterRole", "name": "view"},
        "subjects": [
            {"kind": "ServiceAccount", "name": "engine", "namespace": "service-runbooks"},
            {"kind": "Group", "name": "oncall"},
        ],
    }
    table = _table(resources.ROLEBINDINGS, binding)
    assert _headers(table, wide=False) == ["Name", "Role", "Age"]
    assert _cells(table) == [
        ["engine-reads", "ClusterRole/view", "5m", "", "oncall", "service-runbooks/engine"]
    ]
