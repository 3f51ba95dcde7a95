"""An operator at the cluster during a flow test: kubectl's verbs, through the official client.

Each method sends what the kubectl command in its docstring sends, as the cluster's admin, so a
scenario reads like the drill a human would run against the simulated cluster.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from kubernetes import client, config

from tests.flows.checklist_engine import ChecklistEngine

# The official client's models declare every field Optional; the operator reads back only what
# it has just written, so it uses the client untyped rather than asserting each field.
Api = Any


class Operator:
    """kubectl as the cluster's admin."""

    def __init__(self, api_client: Any) -> None:
        self._core: Api = client.CoreV1Api(api_client)
        self._apps: Api = client.AppsV1Api(api_client)

    def scale(self, kind: str, namespace: str, name: str, *, replicas: int) -> None:
        """``kubectl -n <namespace> scale <kind>/<name> --replicas=<replicas>``."""
        patch = {"spec": {"replicas": replicas}}
        scale = {
            "deployment": self._apps.patch_namespaced_deployment_scale,
            "replicaset": self._apps.patch_namespaced_replica_set_scale,
            "statefulset": self._apps.patch_namespaced_stateful_set_scale,
        }[kind]
        scale(name, namespace, patch)

    def set_image(
        self, kind: str, namespace: str, name: str, *, container: str, image: str
    ) -> None:
        """``kubectl -n <namespace> set image <kind>/<name> <container>=<image>``."""
        patch = {
            "spec": {"template": {"spec": {"containers": [{"name": container, "image": image}]}}}
        }
        patch_it = {
            "deployment": self._apps.patch_namespaced_deployment,
            "daemonset": self._apps.patch_namespaced_daemon_set,
        }[kind]
        patch_it(name, namespace, patch)

    def patch(self, kind: str, namespace: str, name: str, body: Mapping[str, Any]) -> None:
        """``kubectl -n <namespace> patch <kind>/<name> -p '<body>'`` (strategic merge)."""
        patch_it = {
            "deployment": self._apps.patch_namespaced_deployment,
            "daemonset": self._apps.patch_namespaced_daemon_set,
        }[kind]
        patch_it(name, namespace, dict(body))

    def create_deployment(
        self,
        namespace: str,
        name: str,
        *,
        image: str,
        replicas: int,
        port: int = 8080,
        requests: Mapping[str, str] | None = None,
    ) -> None:
        """``kubectl -n <namespace> create deployment <name> --image=<image> --port=<port>
        --replicas=<replicas>`` (then ``kubectl set resources --requests=...`` when asked)."""
        labels = {"app": name}
        container: dict[str, Any] = {
            "name": name,
            "image": image,
            "ports": [{"name": "http", "containerPort": port, "protocol": "TCP"}],
        }
        if requests:
            container["resources"] = {"requests": dict(requests)}
        body = {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": name, "namespace": namespace, "labels": labels},
            "spec": {
                "replicas": replicas,
                "selector": {"matchLabels": labels},
                "template": {"metadata": {"labels": labels}, "spec": {"containers": [container]}},
            },
        }
        self._apps.create_namespaced_deployment(namespace, body)

    def expose(self, namespace: str, name: str, *, port: int = 80, target_port: int = 8080) -> None:
        """``kubectl -n <namespace> expose deployment <name> --port=<port>
        --target-port=<target_port>``."""
        body = {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": name, "namespace": namespace, "labels": {"app": name}},
            "spec": {
                "selector": {"app": name},
                "ports": [{"port": port, "targetPort": target_port, "protocol": "TCP"}],
            },
        }
        self._core.create_namespaced_service(namespace, body)


@contextmanager
def operator(engine: ChecklistEngine) -> Iterator[Operator]:
    """The cluster's admin at ``engine``'s simulated cluster."""
    kubeconfig = engine.sim.write_kubeconfig(
        engine.kubeconfig.with_name("operator.kubeconfig"), user="admin"
    )
    api_client = config.new_client_from_config(  # type: ignore[no-untyped-call]  # untyped
        config_file=str(kubeconfig), context="simcluster"
    )
    try:
        yield Operator(api_client)
    finally:
        api_client.close()
