"""SimServer: serves in the background, writes kubeconfigs, and stops cleanly (watches too)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx
import pytest
import yaml
from kubernetes import client

from simcluster.server import DEPLOY_RBAC_DIR, SimServer
from tests.simcluster.api import manifests
from tests.simcluster.api.clusters import RBAC_DIR, api, api_client_for, new_cluster
from tests.simcluster.api.status import status_of

ADMIN = {"Authorization": "Bearer sim-admin-token"}


def test_urls_are_known_before_the_server_starts() -> None:
    server = SimServer(new_cluster())
    assert server.url.startswith("http://127.0.0.1:")
    assert server.https_url.startswith("https://127.0.0.1:")
    with server:
        assert httpx.get(server.url + "/version", headers=ADMIN).json()["major"] == "1"


def test_the_default_rbac_is_the_repositorys_deploy_rbac() -> None:
    assert DEPLOY_RBAC_DIR == RBAC_DIR
    assert DEPLOY_RBAC_DIR.is_dir()


@pytest.mark.parametrize(
    ("rbac_dir", "enforced"),
    [(DEPLOY_RBAC_DIR, True), (RBAC_DIR, True), (None, False), (Path("/nonexistent/rbac"), False)],
    ids=["by default", "from a folder", "none", "from a missing folder"],
)
def test_the_default_cluster_enforces_the_rbac_of_the_folder_given(
    rbac_dir: Path | None, enforced: bool
) -> None:
    server = SimServer(rbac_dir=rbac_dir)
    try:
        assert (server.cluster.rbac is not None) is enforced
    finally:
        server.stop()


def test_a_stopped_server_refuses_connections() -> None:
    with SimServer(new_cluster()) as server:
        url = server.url
    with pytest.raises(httpx.ConnectError):
        httpx.get(url + "/version", headers=ADMIN)


def test_stopping_ends_open_watch_streams() -> None:
    server = SimServer(new_cluster()).start()
    received: list[str] = []
    opened = threading.Event()

    def watch() -> None:
        path = "/api/v1/namespaces/default/configmaps?watch=true"
        with httpx.stream("GET", server.url + path, headers=ADMIN, timeout=30) as answer:
            opened.set()
            received.extend(answer.iter_lines())

    watcher = threading.Thread(target=watch)
    watcher.start()
    assert opened.wait(timeout=5)
    started = time.monotonic()
    server.stop()
    watcher.join(timeout=10)
    assert not watcher.is_alive()
    assert time.monotonic() - started < 5


def test_the_controllers_run_while_the_server_serves(tmp_path: Path) -> None:
    with SimServer(new_cluster()) as server:
        api_client = api_client_for(server, server.write_kubeconfig(tmp_path / "kubeconfig"))
        core = api(client.CoreV1Api, api_client)
        core.create_namespaced_pod("default", manifests.pod("web-1"))
        deadline = time.monotonic() + 5
        while core.read_namespaced_pod("web-1", "default").status.phase != "Running":
            assert time.monotonic() < deadline, "the pod never started"
            time.sleep(0.05)
        api_client.close()


def test_admin_kubeconfig_has_a_simcluster_context_and_the_admin_token(tmp_path: Path) -> None:
    with SimServer(new_cluster()) as server:
        path = server.write_kubeconfig(tmp_path / "kubeconfig", user="admin")
        document = yaml.safe_load(path.read_text())
        assert document["current-context"] == "simcluster"
        assert document["clusters"][0]["cluster"]["server"] == server.https_url
        assert document["users"][0]["user"]["token"] == "sim-admin-token"
        api_client = api_client_for(server, path)
        assert "kube-system" in [
            n.metadata.name for n in api(client.CoreV1Api, api_client).list_namespace().items
        ]
        api_client.close()


def test_engine_kubeconfig_authenticates_as_the_engine_service_account(tmp_path: Path) -> None:
    with SimServer(new_cluster()) as server:
        api_client = api_client_for(
            server, server.write_kubeconfig(tmp_path / "kubeconfig", user="engine")
        )
        with pytest.raises(client.ApiException) as raised:
            api(client.CoreV1Api, api_client).list_namespace()
        api_client.close()
    assert raised.value.status == 403
    message = status_of(raised.value)["message"]
    assert 'User "system:serviceaccount:service-runbooks:service-runbooks"' in message


def test_default_server_enforces_the_repository_rbac(tmp_path: Path) -> None:
    with SimServer() as server:
        path = server.write_kubeconfig(tmp_path / "kubeconfig", user="engine")
        api_client = api_client_for(server, path)
        core = api(client.CoreV1Api, api_client)
        assert core.list_namespaced_pod("kube-system").items
        with pytest.raises(client.ApiException) as raised:
            core.create_namespaced_config_map("default", {"metadata": {"name": "x"}})
        api_client.close()
    assert raised.value.status == 403


def test_default_server_serves_the_seeded_cluster(tmp_path: Path) -> None:
    with SimServer() as server:
        api_client = api_client_for(server, server.write_kubeconfig(tmp_path / "kubeconfig"))
        proxies = api(client.CoreV1Api, api_client).list_namespaced_pod(
            "kube-system", label_selector="k8s-app=kube-proxy"
        )
        assert len(proxies.items) == len(api(client.CoreV1Api, api_client).list_node().items)
        api_client.close()
