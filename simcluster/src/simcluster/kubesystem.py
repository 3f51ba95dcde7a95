"""kube-system's objects in a seeded cluster: kube-proxy (DaemonSet, ConfigMap) and CoreDNS."""

from __future__ import annotations

from typing import Any

from simcluster.manifests import deployment, service

Obj = dict[str, Any]
KUBE_PROXY_IMAGE = "registry.k8s.io/kube-proxy:v1.30.4"
KUBE_PROXY_CONFIG = """\
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
bindAddress: 0.0.0.0
clusterCIDR: 10.128.0.0/9
healthzBindAddress: 0.0.0.0:10256
metricsBindAddress: 0.0.0.0:10249
mode: iptables
conntrack:
  maxPerCore: 32768
  min: 131072
  tcpEstablishedTimeout: 24h0m0s
  tcpCloseWaitTimeout: 1h0m0s
iptables:
  masqueradeAll: false
  minSyncPeriod: 1s
  syncPeriod: 30s
ipvs:
  scheduler: rr
  syncPeriod: 30s
"""


def kube_proxy_daemonset() -> Obj:
    """The kube-proxy DaemonSet as kubeadm deploys it."""
    labels = {"k8s-app": "kube-proxy"}
    container = {
        "name": "kube-proxy",
        "image": KUBE_PROXY_IMAGE,
        "command": [
            "/usr/local/bin/kube-proxy",
            "--config=/var/lib/kube-proxy/config.conf",
            "--hostname-override=$(NODE_NAME)",
        ],
        "env": [
            {
                "name": "NODE_NAME",
                "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "spec.nodeName"}},
            }
        ],
        "ports": [
            {"name": "metrics", "containerPort": 10249, "hostPort": 10249, "protocol": "TCP"},
            {"name": "healthz", "containerPort": 10256, "hostPort": 10256, "protocol": "TCP"},
        ],
        "securityContext": {"privileged": True},
        "volumeMounts": [
            {"name": "kube-proxy", "mountPath": "/var/lib/kube-proxy"},
            {"name": "xtables-lock", "mountPath": "/run/xtables.lock"},
            {"name": "lib-modules", "mountPath": "/lib/modules", "readOnly": True},
        ],
    }
    spec = {
        "containers": [container],
        "hostNetwork": True,
        "priorityClassName": "system-node-critical",
        "serviceAccountName": "kube-proxy",
        "nodeSelector": {"kubernetes.io/os": "linux"},
        "tolerations": [{"operator": "Exists"}],
        "volumes": [
            {"name": "kube-proxy", "configMap": {"name": "kube-proxy", "defaultMode": 420}},
            {
                "name": "xtables-lock",
                "hostPath": {"path": "/run/xtables.lock", "type": "FileOrCreate"},
            },
            {"name": "lib-modules", "hostPath": {"path": "/lib/modules", "type": ""}},
        ],
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {"name": "kube-proxy", "namespace": "kube-system", "labels": dict(labels)},
        "spec": {
            "selector": {"matchLabels": dict(labels)},
            "template": {"metadata": {"labels": dict(labels)}, "spec": spec},
            "updateStrategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0},
            },
        },
    }


def kube_proxy_config_map() -> Obj:
    """The kube-proxy ConfigMap (``config.conf``, iptables mode)."""
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": "kube-proxy",
            "namespace": "kube-system",
            "labels": {"app": "kube-proxy"},
        },
        "data": {"config.conf": KUBE_PROXY_CONFIG},
    }


def system_objects() -> list[Obj]:
    """kube-proxy, CoreDNS and the ``kubernetes`` Service."""
    dns_ports = [
        {"name": "dns", "containerPort": 53, "protocol": "UDP"},
        {"name": "dns-tcp", "containerPort": 53, "protocol": "TCP"},
        {"name": "metrics", "containerPort": 9153, "protocol": "TCP"},
    ]
    coredns = deployment(
        "kube-system",
        "coredns",
        image="registry.k8s.io/coredns/coredns:v1.11.1",
        replicas=2,
        ports=dns_ports,
        labels={"k8s-app": "kube-dns"},
    )
    kube_dns = service(
        "kube-system",
        "kube-dns",
        ports=[
            {"name": "dns", "port": 53, "protocol": "UDP", "targetPort": 53},
            {"name": "dns-tcp", "port": 53, "protocol": "TCP", "targetPort": 53},
            {"name": "metrics", "port": 9153, "protocol": "TCP", "targetPort": 9153},
        ],
        selector={"k8s-app": "kube-dns"},
        cluster_ip="10.96.0.10",
        labels={"k8s-app": "kube-dns", "kubernetes.io/name": "CoreDNS"},
    )
    kubernetes = service(
        "default",
        "kubernetes",
        ports=[{"name": "https", "port": 443, "protocol": "TCP", "targetPort": 6443}],
        selector=None,
        cluster_ip="10.96.0.1",
        labels={"component": "apiserver", "provider": "kubernetes"},
    )
    api_endpoints = {
        "apiVersion": "v1",
        "kind": "Endpoints",
        "metadata": {
            "name": "kubernetes",
            "namespace": "default",
            "labels": {"endpointslice.kubernetes.io/skip-mirror": "true"},
        },
        "subsets": [
            {
                "addresses": [{"ip": "172.18.0.1"}],
                "ports": [{"name": "https", "port": 6443, "protocol": "TCP"}],
            }
        ],
    }
    return [
        kube_proxy_config_map(),
        kube_proxy_daemonset(),
        coredns,
        kube_dns,
        kubernetes,
        api_endpoints,
    ]
