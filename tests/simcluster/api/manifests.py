"""Small manifests for API tests (valid for the simulated cluster's admission)."""

from __future__ import annotations

from typing import Any

Manifest = dict[str, Any]


def pod(
    name: str,
    *,
    labels: dict[str, str] | None = None,
    node: str | None = None,
    namespace: str | None = None,
) -> Manifest:
    """A one-container Pod."""
    metadata: Manifest = {"name": name, "labels": labels or {}}
    if namespace is not None:
        metadata["namespace"] = namespace
    spec: Manifest = {"containers": [{"name": "app", "image": "registry.local/app:1.0"}]}
    if node is not None:
        spec["nodeName"] = node
    return {"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": spec}


def config_map(name: str, *, data: dict[str, str] | None = None) -> Manifest:
    """A ConfigMap: no controller writes one, so its resourceVersion moves only when a test does."""
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name},
        "data": data or {},
    }


def service(name: str, *, selector: dict[str, str], port: int = 80) -> Manifest:
    """A ClusterIP Service."""
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name},
        "spec": {
            "selector": selector,
            "ports": [{"name": "http", "port": port, "targetPort": 8080, "protocol": "TCP"}],
        },
    }


def daemonset(name: str, *, app: str, image: str = "registry.local/agent:1.0") -> Manifest:
    """A DaemonSet whose pods carry ``app=<app>``."""
    labels = {"app": app}
    return {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {"name": name, "labels": labels},
        "spec": {
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": name, "image": image}]},
            },
        },
    }


def endpoint_slice(name: str, *, service_name: str, addresses: list[str]) -> Manifest:
    """An EndpointSlice for a Service, managed by hand (not by the controller)."""
    return {
        "apiVersion": "discovery.k8s.io/v1",
        "kind": "EndpointSlice",
        "metadata": {
            "name": name,
            "labels": {
                "kubernetes.io/service-name": service_name,
                "endpointslice.kubernetes.io/managed-by": "tests.simcluster",
            },
        },
        "addressType": "IPv4",
        "endpoints": [{"addresses": [a], "conditions": {"ready": True}} for a in addresses],
        "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}],
    }
