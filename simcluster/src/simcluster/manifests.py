"""The objects a seeded cluster starts with: namespaces, nodes and the demo shop."""

from __future__ import annotations

from typing import Any

Obj = dict[str, Any]
KUBERNETES_VERSION = "v1.30.4"
NAMESPACES = ("default", "kube-system", "kube-public", "service-runbooks", "shop")


def namespace(name: str) -> Obj:
    """A Namespace."""
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": name, "labels": {"kubernetes.io/metadata.name": name}},
        "spec": {"finalizers": ["kubernetes"]},
        "status": {"phase": "Active"},
    }


def pod_cidr(index: int) -> str:
    """The /24 pod range of the ``index``-th node (1-based), inside 10.128.0.0/9."""
    return f"10.{128 + index // 256}.{index % 256}.0/24"


def node_address(index: int) -> str:
    """The InternalIP of the ``index``-th node."""
    return f"172.18.{index // 250}.{index % 250 + 2}"


def node(index: int, *, created: str) -> Obj:
    """A Ready worker node ``node-<index>``."""
    name = f"node-{index}"
    conditions = [
        {
            "type": kind,
            "status": "False",
            "reason": f"KubeletHas{reason}",
            "message": message,
            "lastHeartbeatTime": created,
            "lastTransitionTime": created,
        }
        for kind, reason, message in (
            ("MemoryPressure", "SufficientMemory", "kubelet has sufficient memory available"),
            ("DiskPressure", "NoDiskPressure", "kubelet has no disk pressure"),
            ("PIDPressure", "SufficientPID", "kubelet has sufficient PID available"),
        )
    ]
    conditions.append(
        {
            "type": "Ready",
            "status": "True",
            "reason": "KubeletReady",
            "message": "kubelet is posting ready status",
            "lastHeartbeatTime": created,
            "lastTransitionTime": created,
        }
    )
    capacity = {
        "cpu": "4",
        "memory": "16374584Ki",
        "pods": "110",
        "ephemeral-storage": "101430960Ki",
    }
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "labels": {
                "kubernetes.io/hostname": name,
                "kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64",
                "beta.kubernetes.io/os": "linux",
                "beta.kubernetes.io/arch": "amd64",
            },
        },
        "spec": {
            "podCIDR": pod_cidr(index),
            "podCIDRs": [pod_cidr(index)],
            "providerID": f"sim://{name}",
        },
        "status": {
            "conditions": conditions,
            "addresses": [
                {"type": "InternalIP", "address": node_address(index)},
                {"type": "Hostname", "address": name},
            ],
            "capacity": capacity,
            "allocatable": {**capacity, "cpu": "3800m"},
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
            "nodeInfo": {
                "machineID": f"{index:032x}",
                "systemUUID": f"{index:08x}-0000-4000-8000-000000000000",
                "bootID": f"{index:08x}-b007-4000-8000-000000000000",
                "kernelVersion": "6.1.0-26-cloud-amd64",
                "osImage": "Debian GNU/Linux 12 (bookworm)",
                "containerRuntimeVersion": "containerd://1.7.22",
                "kubeletVersion": KUBERNETES_VERSION,
                "kubeProxyVersion": KUBERNETES_VERSION,
                "operatingSystem": "linux",
                "architecture": "amd64",
            },
        },
    }


def deployment(
    namespace: str,
    name: str,
    *,
    image: str,
    replicas: int,
    ports: list[Obj],
    labels: dict[str, str] | None = None,
) -> Obj:
    """A Deployment of one container."""
    selector = labels or {"app": name}
    container: Obj = {"name": name, "image": image, "ports": ports}
    if any(p.get("name") == "http" for p in ports):
        container["readinessProbe"] = {
            "httpGet": {"path": "/healthz", "port": "http", "scheme": "HTTP"},
            "periodSeconds": 10,
            "timeoutSeconds": 1,
            "successThreshold": 1,
            "failureThreshold": 3,
        }
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace, "labels": dict(selector)},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": dict(selector)},
            "template": {
                "metadata": {"labels": dict(selector)},
                "spec": {"containers": [container]},
            },
        },
    }


def service(
    namespace: str,
    name: str,
    *,
    ports: list[Obj],
    selector: dict[str, str] | None,
    cluster_ip: str | None = None,
    labels: dict[str, str] | None = None,
) -> Obj:
    """A ClusterIP Service."""
    spec: Obj = {"ports": ports}
    if selector is not None:
        spec["selector"] = selector
    if cluster_ip:
        spec["clusterIP"] = cluster_ip
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": namespace, "labels": labels or {"app": name}},
        "spec": spec,
    }


def shop_objects() -> list[Obj]:
    """The demo app: ``web`` (3 replicas) and ``checkout`` (2), each behind a Service."""
    http = [{"name": "http", "containerPort": 8080, "protocol": "TCP"}]
    return [
        deployment(
            "shop", "web", image="registry.example.com/shop/web:1.4.2", replicas=3, ports=http
        ),
        service(
            "shop",
            "web",
            ports=[{"name": "http", "port": 80, "protocol": "TCP", "targetPort": "http"}],
            selector={"app": "web"},
        ),
        deployment(
            "shop",
            "checkout",
            image="registry.example.com/shop/checkout:2.0.1",
            replicas=2,
            ports=http,
        ),
        service(
            "shop",
            "checkout",
            ports=[{"name": "http", "port": 80, "protocol": "TCP", "targetPort": "http"}],
            selector={"app": "checkout"},
        ),
    ]
