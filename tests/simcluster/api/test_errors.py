"""Failures answer with a Kubernetes `Status` carrying the apiserver's code, reason and wording."""

from __future__ import annotations

import httpx
import pytest
from kubernetes import client

from simcluster.server import SimServer
from tests.simcluster.api import manifests
from tests.simcluster.api.clusters import CoreApi
from tests.simcluster.api.status import status_of

ADMIN = {"Authorization": "Bearer sim-admin-token"}


def test_reading_a_missing_object_is_404_not_found(core: CoreApi) -> None:
    with pytest.raises(client.ApiException) as raised:
        core.read_namespaced_pod("ghost", "default")
    assert raised.value.status == 404
    status = status_of(raised.value)
    assert status["reason"] == "NotFound"
    assert status["message"] == 'pods "ghost" not found'
    assert status["details"] == {"name": "ghost", "group": "", "kind": "pods"}


def test_creating_into_a_missing_namespace_is_404_for_the_namespace(
    core: CoreApi,
) -> None:
    with pytest.raises(client.ApiException) as raised:
        core.create_namespaced_pod("nowhere", manifests.pod("web-1"))
    assert raised.value.status == 404
    assert status_of(raised.value)["message"] == 'namespaces "nowhere" not found'


def test_creating_a_taken_name_is_409_already_exists(core: CoreApi) -> None:
    core.create_namespaced_pod("default", manifests.pod("web-1"))
    with pytest.raises(client.ApiException) as raised:
        core.create_namespaced_pod("default", manifests.pod("web-1"))
    assert raised.value.status == 409
    status = status_of(raised.value)
    assert status["reason"] == "AlreadyExists"
    assert status["message"] == 'pods "web-1" already exists'


def test_replacing_with_a_stale_resource_version_is_409_conflict(core: CoreApi) -> None:
    # A ConfigMap, not a pod: the running kubelet writes a new pod's status at any moment, which
    # would make even the first replace below stale.
    stale = core.create_namespaced_config_map("default", manifests.config_map("settings"))
    fresh = core.read_namespaced_config_map("settings", "default")
    fresh.metadata.labels = {"edited": "first"}
    core.replace_namespaced_config_map("settings", "default", fresh)
    stale.metadata.labels = {"edited": "second"}
    with pytest.raises(client.ApiException) as raised:
        core.replace_namespaced_config_map("settings", "default", stale)
    assert raised.value.status == 409
    status = status_of(raised.value)
    assert status["reason"] == "Conflict"
    assert "the object has been modified" in status["message"]
    labels = core.read_namespaced_config_map("settings", "default").metadata.labels
    assert labels == {"edited": "first"}


def test_delete_with_a_failed_uid_precondition_is_409(core: CoreApi) -> None:
    core.create_namespaced_pod("default", manifests.pod("web-1"))
    options = client.V1DeleteOptions(preconditions=client.V1Preconditions(uid="not-the-uid"))
    with pytest.raises(client.ApiException) as raised:
        core.delete_namespaced_pod("web-1", "default", body=options)
    assert raised.value.status == 409
    assert "Precondition failed" in status_of(raised.value)["message"]
    assert core.read_namespaced_pod("web-1", "default").metadata.name == "web-1"


def test_an_object_without_a_name_is_422_invalid(core: CoreApi) -> None:
    nameless = manifests.pod("x")
    del nameless["metadata"]["name"]
    with pytest.raises(client.ApiException) as raised:
        core.create_namespaced_pod("default", nameless)
    assert raised.value.status == 422
    status = status_of(raised.value)
    assert status["reason"] == "Invalid"
    assert status["details"]["causes"][0]["field"] == "metadata.name"


def test_a_body_of_another_kind_is_400_bad_request(server: SimServer) -> None:
    answer = httpx.post(
        f"{server.url}/api/v1/namespaces/default/pods",
        headers=ADMIN,
        json=manifests.service("web", selector={"app": "web"}),
    )
    assert answer.status_code == 400
    assert answer.json()["reason"] == "BadRequest"
    assert "does not match the expected kind (Pod)" in answer.json()["message"]


def test_a_body_that_is_not_json_is_400_bad_request(server: SimServer) -> None:
    answer = httpx.post(
        f"{server.url}/api/v1/namespaces/default/pods", headers=ADMIN, content=b"{not json"
    )
    assert answer.status_code == 400
    assert answer.json()["reason"] == "BadRequest"


def test_an_unknown_patch_type_is_415(server: SimServer, core: CoreApi) -> None:
    core.create_namespaced_pod("default", manifests.pod("web-1"))
    answer = httpx.patch(
        f"{server.url}/api/v1/namespaces/default/pods/web-1",
        headers={**ADMIN, "Content-Type": "application/apply-patch+yaml"},
        content=b"metadata: {}",
    )
    assert answer.status_code == 415
    assert answer.json()["reason"] == "UnsupportedMediaType"


@pytest.mark.parametrize(
    "path", ["/api/v1/widgets", "/apis/apps/v1/namespaces/default/gadgets", "/nothing/here"]
)
def test_unknown_paths_are_a_404_status(server: SimServer, path: str) -> None:
    answer = httpx.get(server.url + path, headers=ADMIN)
    assert answer.status_code == 404
    assert answer.json()["kind"] == "Status"
    assert answer.json()["reason"] == "NotFound"


def test_a_method_a_path_does_not_serve_is_405(server: SimServer) -> None:
    answer = httpx.put(f"{server.url}/api/v1/namespaces/default/pods", headers=ADMIN, json={})
    assert answer.status_code == 405
    assert answer.json()["reason"] == "MethodNotAllowed"
