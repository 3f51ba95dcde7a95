"""Bearer-token authentication (401) and RBAC authorization (403) with Kubernetes' wording."""

from __future__ import annotations

import httpx
import pytest
from kubernetes import client

from simcluster.server import SimServer
from tests.simcluster.api import manifests
from tests.simcluster.api.clusters import ApiClient, AppsApi, CoreApi, api, new_cluster
from tests.simcluster.api.status import status_of

ENGINE = "system:serviceaccount:service-runbooks:service-runbooks"


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer not-a-token"}])
def test_requests_without_a_known_token_are_401(server: SimServer, headers: dict[str, str]) -> None:
    for path in ("/api/v1/namespaces/default/pods", "/api", "/version"):
        answer = httpx.get(server.url + path, headers=headers)
        assert answer.status_code == 401
        assert answer.json()["reason"] == "Unauthorized"


def test_engine_may_read_pods_everywhere(core: CoreApi, engine_client: ApiClient) -> None:
    core.create_namespaced_pod("kube-system", manifests.pod("kube-proxy-abcde"))
    engine = api(client.CoreV1Api, engine_client)
    assert [p.metadata.name for p in engine.list_namespaced_pod("kube-system").items] == [
        "kube-proxy-abcde"
    ]


def test_engine_is_forbidden_to_create_pods(engine_client: ApiClient) -> None:
    engine = api(client.CoreV1Api, engine_client)
    with pytest.raises(client.ApiException) as raised:
        engine.create_namespaced_pod("kube-system", manifests.pod("intruder"))
    assert raised.value.status == 403
    status = status_of(raised.value)
    assert status["reason"] == "Forbidden"
    assert status["message"] == (
        f'pods is forbidden: User "{ENGINE}" cannot create resource "pods" in API group "" '
        'in the namespace "kube-system"'
    )


def test_engine_is_forbidden_to_patch_other_daemonsets(
    apps: AppsApi, engine_client: ApiClient
) -> None:
    apps.create_namespaced_daemon_set("kube-system", manifests.daemonset("other", app="other"))
    engine = api(client.AppsV1Api, engine_client)
    with pytest.raises(client.ApiException) as raised:
        engine.patch_namespaced_daemon_set("other", "kube-system", {"metadata": {"labels": {}}})
    assert raised.value.status == 403
    assert status_of(raised.value)["message"].startswith(
        f'daemonsets.apps "other" is forbidden: User "{ENGINE}" cannot patch resource '
        '"daemonsets" in API group "apps" in the namespace "kube-system"'
    )


def test_engine_is_forbidden_to_list_configmaps_at_the_cluster_scope(
    engine_client: ApiClient,
) -> None:
    with pytest.raises(client.ApiException) as raised:
        api(client.CoreV1Api, engine_client).list_config_map_for_all_namespaces()
    assert raised.value.status == 403
    assert status_of(raised.value)["message"] == (
        f'configmaps is forbidden: User "{ENGINE}" cannot list resource "configmaps" '
        'in API group "" at the cluster scope'
    )


def test_engine_is_forbidden_to_watch_configmaps(engine_client: ApiClient) -> None:
    with pytest.raises(client.ApiException) as raised:
        api(client.CoreV1Api, engine_client).list_namespaced_config_map("default", watch=True)
    assert raised.value.status == 403
    assert "cannot watch resource" in status_of(raised.value)["message"]


def test_engine_is_forbidden_to_exec_outside_kube_system(server: SimServer, core: CoreApi) -> None:
    core.create_namespaced_pod("default", manifests.pod("web-1"))
    answer = httpx.post(
        f"{server.url}/api/v1/namespaces/default/pods/web-1/exec?command=ls",
        headers={"Authorization": "Bearer sim-engine-token"},
    )
    assert answer.status_code == 403
    assert answer.json()["message"] == (
        f'pods "web-1" is forbidden: User "{ENGINE}" cannot create resource "pods/exec" '
        'in API group "" in the namespace "default"'
    )


def test_discovery_is_open_to_any_authenticated_user(engine_client: ApiClient) -> None:
    assert api(client.CoreApi, engine_client).get_api_versions().versions == ["v1"]
    assert api(client.VersionApi, engine_client).get_code().minor == "30"


def test_without_rbac_enforcement_the_engine_may_do_anything() -> None:
    with SimServer(new_cluster(), enforce_rbac=False) as server:
        answer = httpx.post(
            f"{server.url}/api/v1/namespaces/default/pods",
            headers={"Authorization": "Bearer sim-engine-token"},
            json=manifests.pod("allowed"),
        )
        assert answer.status_code == 201
