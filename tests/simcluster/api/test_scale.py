"""The ``/scale`` subresource: ``kubectl scale`` and the official client's scale calls work."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from kubernetes.client.exceptions import ApiException

from simcluster import manifests, resources
from simcluster.cluster import SimCluster
from simcluster.server import SimServer
from tests.simcluster.api.clusters import AppsApi


def _web(replicas: int = 2) -> dict[str, Any]:
    return manifests.deployment(
        "default", "web", image="registry.example.com/shop/web:1.4.2", replicas=replicas, ports=[]
    )


def _stateful_set(name: str, replicas: int) -> dict[str, Any]:
    labels = {"app": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {
            "replicas": replicas,
            "serviceName": name,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": name, "image": "registry.k8s.io/pause:3.9"}]},
            },
        },
    }


def _pods(cluster: SimCluster, app: str) -> list[str]:
    return [
        pod["metadata"]["name"]
        for pod in cluster.store.list_objects(resources.PODS, namespace="default")
        if (pod["metadata"].get("labels") or {}).get("app") == app
    ]


def test_reading_a_deployments_scale_shows_its_replicas_and_selector(
    apps: AppsApi, server: SimServer
) -> None:
    apps.create_namespaced_deployment("default", _web(replicas=2))
    server.cluster.settle()

    scale = apps.read_namespaced_deployment_scale("web", "default")

    assert scale.kind == "Scale"
    assert scale.spec.replicas == 2
    assert scale.status.replicas == 2
    assert scale.status.selector == "app=web"


def test_patching_a_deployments_scale_to_zero_removes_its_pods(
    apps: AppsApi, server: SimServer
) -> None:
    apps.create_namespaced_deployment("default", _web(replicas=2))
    server.cluster.settle()

    apps.patch_namespaced_deployment_scale("web", "default", {"spec": {"replicas": 0}})
    server.cluster.settle()

    assert apps.read_namespaced_deployment("web", "default").spec.replicas == 0
    assert _pods(server.cluster, "web") == []


def test_a_replica_sets_and_a_stateful_sets_scale_are_served_too(apps: AppsApi) -> None:
    apps.create_namespaced_stateful_set("default", _stateful_set("db", 3))

    scaled = apps.patch_namespaced_stateful_set_scale("db", "default", {"spec": {"replicas": 1}})

    assert scaled.spec.replicas == 1
    assert apps.read_namespaced_stateful_set("db", "default").spec.replicas == 1
    replica_set = apps.list_namespaced_replica_set("default").items
    assert replica_set == []  # no Deployment here: a bare ReplicaSet's scale is read below
    manifest = _web(replicas=1) | {"kind": "ReplicaSet"}
    apps.create_namespaced_replica_set("default", manifest)
    assert apps.read_namespaced_replica_set_scale("web", "default").spec.replicas == 1


def test_a_negative_replica_count_is_refused_as_invalid(apps: AppsApi) -> None:
    apps.create_namespaced_deployment("default", _web())

    with pytest.raises(ApiException) as refused:
        apps.patch_namespaced_deployment_scale("web", "default", {"spec": {"replicas": -1}})

    assert refused.value.status == 422
    assert "spec.replicas" in str(refused.value.body)


def test_a_stale_resource_version_is_a_conflict(apps: AppsApi) -> None:
    apps.create_namespaced_deployment("default", _web())
    body = {"metadata": {"resourceVersion": "1"}, "spec": {"replicas": 3}}

    with pytest.raises(ApiException) as refused:
        apps.replace_namespaced_deployment_scale("web", "default", body)

    assert refused.value.status == 409


@pytest.mark.kubectl
@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
def test_kubectl_scale_scales_a_deployment(
    apps: AppsApi, server: SimServer, tmp_path: Path
) -> None:
    apps.create_namespaced_deployment("default", _web(replicas=2))
    kubeconfig = server.write_kubeconfig(tmp_path / "kubeconfig")
    command = ["kubectl", f"--kubeconfig={kubeconfig}", f"--cache-dir={tmp_path / 'cache'}"]

    done = subprocess.run(
        [*command, "scale", "deployment/web", "--replicas=0", "-n", "default"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    assert "deployment.apps/web scaled" in done.stdout
    assert apps.read_namespaced_deployment("web", "default").spec.replicas == 0
