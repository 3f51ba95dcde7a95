"""kubectl (client-go) works against the simulated apiserver: discovery, get, delete, rollout."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from simcluster import kubesystem
from simcluster.cluster import SimCluster
from simcluster.server import SimServer
from tests.simcluster.api import manifests
from tests.simcluster.api.clusters import AppsApi, CoreApi

pytestmark = [
    pytest.mark.kubectl,
    pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed"),
]

PREVIOUS_IMAGE = kubesystem.KUBE_PROXY_IMAGE
NEW_IMAGE = "registry.k8s.io/kube-proxy:v1.30.5"


@pytest.fixture
def kubectl(server: SimServer, tmp_path: Path) -> list[str]:
    """The kubectl command line for the admin kubeconfig (with a private discovery cache)."""
    kubeconfig = server.write_kubeconfig(tmp_path / "kubeconfig")
    return ["kubectl", f"--kubeconfig={kubeconfig}", f"--cache-dir={tmp_path / 'cache'}"]


def run(command: list[str], *args: str) -> str:
    """Run kubectl and return its standard output, failing the test on a non-zero exit."""
    done = subprocess.run(
        [*command, *args], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_get_pods_in_all_namespaces(kubectl: list[str], core: CoreApi) -> None:
    core.create_namespaced_pod("default", manifests.pod("web-1"))
    core.create_namespaced_pod("kube-system", manifests.pod("kube-proxy-abcde"))
    lines = run(kubectl, "get", "pods", "-A").splitlines()
    assert lines[0].split() == ["NAMESPACE", "NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    assert {tuple(line.split()[:2]) for line in lines[1:]} == {
        ("default", "web-1"),
        ("kube-system", "kube-proxy-abcde"),
    }


def test_delete_pod(kubectl: list[str], core: CoreApi) -> None:
    core.create_namespaced_pod("default", manifests.pod("web-1"))
    assert 'pod "web-1" deleted' in run(kubectl, "delete", "pod", "web-1", "-n", "default")
    assert core.list_namespaced_pod("default").items == []


def test_get_endpoints_shows_the_ready_addresses_of_a_service(
    kubectl: list[str], cluster: SimCluster, core: CoreApi
) -> None:
    core.create_namespaced_service("default", manifests.service("web", selector={"app": "web"}))
    core.create_namespaced_service("default", manifests.service("idle", selector={"app": "idle"}))
    for index in range(4):
        core.create_namespaced_pod("default", manifests.pod(f"web-{index}", labels={"app": "web"}))
    cluster.settle()
    ips = sorted(p.status.pod_ip for p in core.list_namespaced_pod("default").items)
    lines = run(kubectl, "get", "endpoints", "-n", "default").splitlines()
    assert lines[0].split() == ["NAME", "ENDPOINTS", "AGE"]
    rows = {line.split()[0]: line.split()[1:] for line in lines[1:]}
    shown = ",".join(f"{ip}:8080" for ip in ips[:3])
    assert rows["web"][:4] == [shown, "+", "1", "more..."]
    assert rows["idle"][0] == "<none>"


def test_get_nodes_shows_status_roles_age_and_version(kubectl: list[str]) -> None:
    lines = run(kubectl, "get", "nodes").splitlines()
    assert lines[0].split() == ["NAME", "STATUS", "ROLES", "AGE", "VERSION"]
    name, status, roles, _age, version = lines[1].split()
    assert (name, status, roles) == ("node-1", "Ready", "<none>")
    assert version.startswith("v1.30.")


def test_a_deleted_pod_shows_terminating_until_it_is_force_deleted(
    kubectl: list[str], core: CoreApi
) -> None:
    slow = manifests.pod("slow", node="node-1")
    # Ten minutes of grace: Terminating for six seconds at the default time scale.
    slow["spec"]["terminationGracePeriodSeconds"] = 600
    core.create_namespaced_pod("default", slow)
    run(kubectl, "delete", "pod", "slow", "-n", "default", "--wait=false")
    header, row = run(kubectl, "get", "pod", "slow", "-n", "default").splitlines()
    assert row.split()[header.split().index("STATUS")] == "Terminating"
    forced = run(kubectl, "delete", "pod", "slow", "-n", "default", "--grace-period=0", "--force")
    assert 'pod "slow" force deleted' in forced
    assert core.list_namespaced_pod("default").items == []


def test_get_daemonsets_in_kube_system(kubectl: list[str], apps: AppsApi) -> None:
    apps.create_namespaced_daemon_set("kube-system", manifests.daemonset("agent", app="agent"))
    output = run(kubectl, "get", "ds", "-n", "kube-system", "-o", "name")
    assert output.split() == ["daemonset.apps/agent"]
    header = run(kubectl, "get", "ds", "-n", "kube-system").splitlines()[0]
    assert header.split()[:3] == ["NAME", "DESIRED", "CURRENT"]


def test_rollout_undo_restores_the_previous_kube_proxy_template(
    kubectl: list[str], cluster: SimCluster, apps: AppsApi
) -> None:
    apps.create_namespaced_daemon_set("kube-system", kubesystem.kube_proxy_daemonset())
    cluster.settle()
    apps.patch_namespaced_daemon_set(
        "kube-proxy",
        "kube-system",
        {
            "spec": {
                "template": {"spec": {"containers": [{"name": "kube-proxy", "image": NEW_IMAGE}]}}
            }
        },
    )
    cluster.settle()
    output = run(kubectl, "rollout", "undo", "daemonset/kube-proxy", "-n", "kube-system")
    assert "rolled back" in output
    restored = apps.read_namespaced_daemon_set("kube-proxy", "kube-system")
    assert restored.spec.template.spec.containers[0].image == PREVIOUS_IMAGE


ENGINE_SA = "system:serviceaccount:service-runbooks:service-runbooks"


@pytest.mark.parametrize(
    ("question", "answer"),
    [
        (("delete", "pods", "-n", "shop"), "yes"),
        (("create", "services", "-n", "shop"), "yes"),
        (("create", "deployments", "-n", "shop"), "no"),
        (("patch", "daemonsets/kube-proxy", "-n", "kube-system"), "yes"),
        (("patch", "daemonsets/coredns", "-n", "kube-system"), "no"),
        (("get", "configmaps/kube-proxy", "-n", "kube-system"), "yes"),
        (("list", "secrets", "-A"), "no"),
    ],
    ids=lambda value: "-".join(value) if isinstance(value, tuple) else value,
)
def test_auth_can_i_as_the_engine_answers_as_deploy_rbac_says(
    kubectl: list[str], question: tuple[str, ...], answer: str
) -> None:
    done = subprocess.run(
        [*kubectl, "auth", "can-i", f"--as={ENGINE_SA}", *question],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.stdout.strip() == answer, done.stderr


def test_auth_whoami_names_the_impersonated_service_account(kubectl: list[str]) -> None:
    output = run(kubectl, "auth", "whoami", f"--as={ENGINE_SA}", "-o", "json")
    user = json.loads(output)["status"]["userInfo"]
    assert user["username"] == ENGINE_SA
    assert "system:serviceaccounts:service-runbooks" in user["groups"]
