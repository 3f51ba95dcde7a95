"""Creating, reading and deleting Services, and reading where their traffic goes."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from integrations.kubernetes import AlreadyExists, Conflict, Invalid, Kube, NotFound
from integrations.kubernetes.views import Endpoints, EndpointSlice
from tests.integrations.kubernetes.polling import eventually

TEST_LABEL = {"app.kubernetes.io/part-of": "adapter-tests"}


def metrics_service(name: str) -> dict[str, object]:
    """A Service in front of kube-proxy's metrics port, so endpoints are the kube-proxy pods."""
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "labels": dict(TEST_LABEL)},
        "spec": {
            "selector": {"k8s-app": "kube-proxy"},
            "ports": [{"name": "metrics", "port": 10249, "targetPort": 10249}],
        },
    }


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@pytest.fixture(autouse=True)
def remove_test_services(admin_kube: Kube) -> Iterator[None]:
    """Delete the Services a test created, so a shared simulated cluster stays as it was."""
    yield
    for service in admin_kube.list_services("kube-system", label_selector=TEST_LABEL):
        admin_kube.delete_service(service.meta.name, "kube-system")


def test_a_created_service_reads_back_with_its_spec(admin_kube: Kube) -> None:
    name = unique("kp-metrics")

    created = admin_kube.create_service("kube-system", metrics_service(name))

    assert created.meta.name == name
    assert created.type == "ClusterIP"
    assert created.cluster_ip
    assert created.selector == {"k8s-app": "kube-proxy"}
    read = admin_kube.get_service(name, "kube-system")
    assert read.meta.uid == created.meta.uid
    assert [(p.port, p.target_port) for p in read.ports] == [(10249, 10249)]
    listed = admin_kube.list_services("kube-system", label_selector=TEST_LABEL)
    assert name in {service.meta.name for service in listed}


def test_endpoints_and_slices_list_the_selected_pods(admin_kube: Kube) -> None:
    name = unique("kp-endpoints")
    admin_kube.create_service("kube-system", metrics_service(name))
    pod_ips = {
        pod.pod_ip
        for pod in admin_kube.list_pods("kube-system", label_selector={"k8s-app": "kube-proxy"})
    }

    def endpoints_filled() -> Endpoints | None:
        try:
            endpoints = admin_kube.get_endpoints(name, "kube-system")
        except NotFound:
            return None
        return endpoints if set(endpoints.ready_ips) == pod_ips else None

    def slices_filled() -> list[EndpointSlice] | None:
        slices = admin_kube.list_endpoint_slices("kube-system", service_name=name)
        ready = {a for s in slices for e in s.endpoints if e.counts_as_ready for a in e.addresses}
        return slices if ready == pod_ips else None

    endpoints = eventually(endpoints_filled, what="Endpoints of the new Service")
    slices = eventually(slices_filled, what="EndpointSlices of the new Service")

    assert endpoints.subsets[0].ports[0].port == 10249
    assert all(s.service_name == name for s in slices)


def test_creating_a_service_twice_raises_already_exists(admin_kube: Kube) -> None:
    name = unique("kp-twice")
    admin_kube.create_service("kube-system", metrics_service(name))

    with pytest.raises(AlreadyExists):
        admin_kube.create_service("kube-system", metrics_service(name))


def test_an_invalid_service_is_refused_as_invalid(admin_kube: Kube) -> None:
    manifest = metrics_service(unique("kp-invalid"))
    manifest["spec"] = {"ports": [{"port": 99999}]}

    with pytest.raises(Invalid):
        admin_kube.create_service("kube-system", manifest)


def test_a_deleted_service_is_gone(admin_kube: Kube) -> None:
    name = unique("kp-delete")
    admin_kube.create_service("kube-system", metrics_service(name))

    admin_kube.delete_service(name, "kube-system")

    with pytest.raises(NotFound):
        admin_kube.get_service(name, "kube-system")
    with pytest.raises(NotFound):
        admin_kube.delete_service(name, "kube-system")


def test_deleting_a_service_that_was_replaced_is_a_conflict(admin_kube: Kube) -> None:
    name = unique("kp-replaced")
    first = admin_kube.create_service("kube-system", metrics_service(name))
    admin_kube.delete_service(name, "kube-system", uid=first.meta.uid)
    admin_kube.create_service("kube-system", metrics_service(name))

    with pytest.raises(Conflict):
        admin_kube.delete_service(name, "kube-system", uid=first.meta.uid)
    assert admin_kube.get_service(name, "kube-system").meta.uid != first.meta.uid
