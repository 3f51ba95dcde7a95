"""Service admission: defaults, validation in Kubernetes' words, ClusterIP/NodePort allocation."""

from __future__ import annotations

import ipaddress
import random
from typing import Any

import pytest

from simcluster import resources
from simcluster.admission import Admission
from simcluster.allocation import SERVICE_CIDR, ServiceAllocations
from simcluster.errors import InvalidError
from simcluster.servicespec import validate_service

Obj = dict[str, Any]


def _service(name: str = "web", **spec: Any) -> Obj:
    body: Obj = {"ports": [{"port": 80}], **spec}
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": "shop"},
        "spec": body,
    }


@pytest.fixture
def admission() -> Admission:
    return Admission(ServiceAllocations(random.Random(1)))


def _admit(admission: Admission, obj: Obj, old: Obj | None = None) -> Obj:
    admission.admit(resources.SERVICES, obj, old=old)
    return obj


def test_a_service_gets_kubernetes_defaults_and_a_cluster_ip(admission: Admission) -> None:
    spec = _admit(admission, _service())["spec"]
    assert spec["type"] == "ClusterIP"
    assert spec["sessionAffinity"] == "None"
    assert spec["ports"] == [{"port": 80, "protocol": "TCP", "targetPort": 80}]
    assert spec["ipFamilies"] == ["IPv4"]
    assert spec["internalTrafficPolicy"] == "Cluster"
    assert "externalTrafficPolicy" not in spec
    assert ipaddress.IPv4Address(spec["clusterIP"]) in SERVICE_CIDR
    assert spec["clusterIPs"] == [spec["clusterIP"]]


def test_cluster_ips_are_never_handed_out_twice(admission: Admission) -> None:
    ips = {_admit(admission, _service(f"s{i}"))["spec"]["clusterIP"] for i in range(300)}
    assert len(ips) == 300


def test_a_headless_service_keeps_none(admission: Admission) -> None:
    spec = _admit(admission, _service(clusterIP="None"))["spec"]
    assert spec["clusterIP"] == "None"
    assert spec["clusterIPs"] == ["None"]


def test_node_port_services_get_a_port_in_range_and_external_policy(admission: Admission) -> None:
    spec = _admit(admission, _service(type="NodePort"))["spec"]
    assert 30000 <= spec["ports"][0]["nodePort"] <= 32767
    assert spec["externalTrafficPolicy"] == "Cluster"


def test_a_taken_node_port_is_refused_with_kubernetes_message(admission: Admission) -> None:
    first = _service("a", type="NodePort", ports=[{"port": 80, "nodePort": 31000}])
    _admit(admission, first)
    with pytest.raises(InvalidError) as caught:
        _admit(admission, _service("b", type="NodePort", ports=[{"port": 80, "nodePort": 31000}]))
    assert caught.value.code == 422
    assert caught.value.message == (
        'Service "b" is invalid: spec.ports[0].nodePort: '
        "Invalid value: 31000: provided port is already allocated"
    )
    assert caught.value.details["causes"][0]["field"] == "spec.ports[0].nodePort"


def test_a_node_port_outside_the_range_is_refused(admission: Admission) -> None:
    with pytest.raises(
        InvalidError,
        match=r"provided port is not in the valid range\. The range of valid ports is 30000-32767",
    ):
        _admit(admission, _service(type="NodePort", ports=[{"port": 80, "nodePort": 80}]))


def test_a_taken_cluster_ip_is_refused(admission: Admission) -> None:
    _admit(admission, _service("a", clusterIP="10.96.0.50"))
    with pytest.raises(
        InvalidError,
        match=(
            r'spec\.clusterIPs: Invalid value: \[\]string\{"10\.96\.0\.50"\}: '
            r"failed to allocate IP 10\.96\.0\.50: provided IP is already allocated"
        ),
    ):
        _admit(admission, _service("b", clusterIP="10.96.0.50"))


def test_the_cluster_ip_is_kept_on_update_and_immutable(admission: Admission) -> None:
    old = _admit(admission, _service())
    update = _admit(admission, _service(), old=old)
    assert update["spec"]["clusterIP"] == old["spec"]["clusterIP"]
    with pytest.raises(InvalidError, match="may not change once set"):
        _admit(admission, _service(clusterIP="10.96.0.77"), old=old)


def test_a_deleted_service_releases_its_addresses() -> None:
    allocations = ServiceAllocations(random.Random(1))
    admission = Admission(allocations)
    obj = _admit(admission, _service("a", type="NodePort", ports=[{"port": 80, "nodePort": 31000}]))
    allocations.sync("shop/a", None)
    again = _admit(
        admission,
        _service(
            "b",
            type="NodePort",
            ports=[{"port": 80, "nodePort": 31000}],
            clusterIP=obj["spec"]["clusterIP"],
        ),
    )
    assert again["spec"]["ports"][0]["nodePort"] == 31000


@pytest.mark.parametrize(
    ("ports", "field", "message"),
    [
        (
            [{"port": 0, "protocol": "TCP", "targetPort": 80}],
            "spec.ports[0].port",
            "Invalid value: 0: must be between 1 and 65535, inclusive",
        ),
        (
            [{"port": 80, "protocol": "HTTP", "targetPort": 80}],
            "spec.ports[0].protocol",
            'Unsupported value: "HTTP": supported values: "SCTP", "TCP", "UDP"',
        ),
        (
            [
                {"name": "a", "port": 80, "protocol": "TCP", "targetPort": 80},
                {"port": 81, "protocol": "TCP", "targetPort": 81},
            ],
            "spec.ports[1].name",
            "Required value",
        ),
        (
            [
                {"name": "a", "port": 80, "protocol": "TCP", "targetPort": 80},
                {"name": "a", "port": 81, "protocol": "TCP", "targetPort": 81},
            ],
            "spec.ports[1].name",
            'Duplicate value: "a"',
        ),
        (
            [{"name": "Web_1", "port": 80, "protocol": "TCP", "targetPort": 80}],
            "spec.ports[0].name",
            'Invalid value: "Web_1": a lowercase RFC 1123 label',
        ),
        (
            [{"port": 80, "protocol": "TCP", "targetPort": 70000}],
            "spec.ports[0].targetPort",
            "Invalid value: 70000: must be between 1 and 65535",
        ),
    ],
)
def test_invalid_ports_are_reported_per_field(ports: list[Obj], field: str, message: str) -> None:
    causes = validate_service({"spec": {"type": "ClusterIP", "ports": ports}})
    assert [(f, m[: len(message)]) for f, _, m in causes] == [(field, message)]


def test_workloads_whose_selector_does_not_match_the_template_are_invalid(
    admission: Admission,
) -> None:
    ds = {
        "metadata": {"name": "x"},
        "spec": {
            "selector": {"matchLabels": {"a": "b"}},
            "template": {
                "metadata": {"labels": {"a": "c"}},
                "spec": {"containers": [{"name": "c", "image": "i"}]},
            },
        },
    }
    with pytest.raises(InvalidError, match="`selector` does not match template `labels`"):
        admission.admit(resources.DAEMONSETS, ds, old=None)


def test_a_pod_without_image_is_invalid(admission: Admission) -> None:
    with pytest.raises(InvalidError, match=r"spec.containers\[0\].image: Required value"):
        admission.admit(
            resources.PODS,
            {"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c"}]}},
            old=None,
        )


def _statefulset(**spec: Any) -> Obj:
    labels = {"app": "db"}
    body: Obj = {
        "serviceName": "db",
        "replicas": 1,
        "selector": {"matchLabels": labels},
        "template": {
            "metadata": {"labels": labels},
            "spec": {"containers": [{"name": "db", "image": "postgres:16"}]},
        },
        "volumeClaimTemplates": [{"metadata": {"name": "data"}}],
        **spec,
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": "db"},
        "spec": body,
    }


@pytest.mark.parametrize(
    ("change", "allowed"),
    [
        ({"replicas": 3}, True),
        ({"minReadySeconds": 10, "revisionHistoryLimit": 2}, True),
        ({"updateStrategy": {"type": "OnDelete"}}, True),
        ({"volumeClaimTemplates": [{"metadata": {"name": "state"}}]}, False),
        ({"serviceName": "database"}, False),
        ({"podManagementPolicy": "Parallel"}, False),
    ],
    ids=["replicas", "history", "strategy", "claims", "service-name", "pod-management"],
)
def test_a_statefulset_update_may_change_only_what_kubernetes_lets_it(
    admission: Admission, change: Obj, allowed: bool
) -> None:
    updated = _statefulset(**change)
    try:
        admission.admit(resources.STATEFULSETS, updated, old=_statefulset())
        refused = ""
    except InvalidError as error:
        refused = error.message

    assert (refused == "") is allowed
    if not allowed:
        assert refused.startswith(
            'StatefulSet.apps "db" is invalid: spec: Forbidden: updates to statefulset spec for '
            "fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', "
            "'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and "
            "'minReadySeconds' are forbidden"
        )
