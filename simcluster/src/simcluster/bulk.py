"""A large cluster built fast for benchmarks: objects written directly, endpoints in one pass."""

from __future__ import annotations

import copy
from typing import Any

from simcluster import kubesystem, manifests, resources
from simcluster.cluster import SimCluster
from simcluster.controllers.context import owner_reference
from simcluster.controllers.endpoints import Address, EndpointGroup, EndpointPort, plan_slices
from simcluster.controllers.endpoints_controller import endpoints_object, slice_object
from simcluster.controllers.podstatus import ContainerRun, pod_status
from simcluster.controllers.revisions import revision_data
from simcluster.controllers.rollout import NodePods, PodSummary, daemon_status
from simcluster.controllers.templates import pod_from_template
from simcluster.naming import random_suffix, template_hash
from simcluster.objects import format_time
from simcluster.settings import SimSettings
from simcluster.workloads import default_pod_spec

Obj = dict[str, Any]


def _running_pod(cluster: SimCluster, pod: Obj, *, host_ip: str, pod_ip: str, now: str) -> Obj:
    default_pod_spec(pod["spec"])
    pod["status"] = pod_status(
        pod,
        ContainerRun("running", ready=True, started_at=now),
        host_ip=host_ip,
        pod_ip=pod_ip,
        start_time=now,
        now=now,
    )
    return cluster.store.create(resources.PODS, pod)


def _seed_kube_proxy(cluster: SimCluster, nodes: int, now: str) -> None:
    ds = cluster.create(kubesystem.kube_proxy_daemonset())
    cluster.create(kubesystem.kube_proxy_config_map())
    template = ds["spec"]["template"]
    hash_ = template_hash(template)
    revision = {
        "apiVersion": "apps/v1",
        "kind": "ControllerRevision",
        "metadata": {
            "name": f"kube-proxy-{hash_}",
            "namespace": "kube-system",
            "labels": {"k8s-app": "kube-proxy", "controller-revision-hash": hash_},
            "ownerReferences": [owner_reference(ds)],
        },
        "data": revision_data(template),
        "revision": 1,
    }
    cluster.create(revision)
    labels = {"controller-revision-hash": hash_, "pod-template-generation": "1"}
    slots = []
    for index in range(1, nodes + 1):
        node, ip = f"node-{index}", manifests.node_address(index)
        name = f"kube-proxy-{random_suffix(cluster.rng)}"
        while cluster.store.exists(resources.PODS, "kube-system", name):
            name = f"kube-proxy-{random_suffix(cluster.rng)}"
        pod = pod_from_template(template, name=name, owner=ds, extra_labels=labels, node_name=node)
        _running_pod(cluster, pod, host_ip=ip, pod_ip=ip, now=now)
        slots.append(NodePods(node, True, (PodSummary(name, updated=True, available=True),)))
    status = daemon_status(slots, generation=1, ready=nodes)
    cluster.store.update(
        resources.DAEMONSETS, "kube-system", "kube-proxy", lambda d: d.update(status=status)
    )


def _seed_apps(
    cluster: SimCluster, *, nodes: int, services: int, pods: int, namespaces: int, now: str
) -> None:
    names = [f"app-{i}" for i in range(namespaces)]
    for ns in names:
        cluster.create(manifests.namespace(ns))
    http = [{"name": "http", "containerPort": 8080, "protocol": "TCP"}]
    next_ip = [2] * (nodes + 1)
    for index in range(services):
        ns, app = names[index % namespaces], f"svc-{index}"
        service = cluster.create(
            manifests.service(
                ns,
                app,
                ports=[{"name": "http", "port": 80, "protocol": "TCP", "targetPort": "http"}],
                selector={"app": app},
            )
        )
        addresses = []
        count = pods // services + (1 if index < pods % services else 0)
        for replica in range(count):
            node_index = (index * 7 + replica) % nodes + 1
            offset = next_ip[node_index]
            next_ip[node_index] += 1
            pod_ip = manifests.pod_cidr(node_index).replace(".0/24", f".{offset}")
            pod = {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {
                    "name": f"{app}-{random_suffix(cluster.rng)}",
                    "namespace": ns,
                    "labels": {"app": app},
                },
                "spec": {
                    "nodeName": f"node-{node_index}",
                    "containers": [
                        {
                            "name": "app",
                            "image": "registry.example.com/bench/app:1.0",
                            "ports": copy.deepcopy(http),
                        }
                    ],
                },
            }
            created = _running_pod(
                cluster, pod, host_ip=manifests.node_address(node_index), pod_ip=pod_ip, now=now
            )
            addresses.append(
                Address(
                    pod_ip,
                    f"node-{node_index}",
                    created["metadata"]["name"],
                    created["metadata"]["uid"],
                    ns,
                    True,
                    serving=True,
                )
            )
        group = EndpointGroup((EndpointPort("http", 8080, "TCP"),), tuple(addresses))
        cluster.store.create(resources.ENDPOINTS, endpoints_object(service, [group]))
        # Split as the EndpointSlice controller would (at most 100 endpoints a slice).
        for _, part in plan_slices([], [group]).writes:
            slice_name = f"{app}-{random_suffix(cluster.rng)}"
            cluster.store.create(resources.ENDPOINTSLICES, slice_object(service, slice_name, part))


def build_large_cluster(
    *,
    nodes: int = 5000,
    services: int = 20_000,
    pods: int = 100_000,
    namespaces: int = 100,
    settings: SimSettings | None = None,
) -> SimCluster:
    """A healthy cluster of the given size, written without per-object controller work.

    Pods (``pods`` app pods spread over ``services`` Services in ``namespaces`` namespaces, plus
    one kube-proxy pod per node) are stored Running and Ready, with their Endpoints, slices
    and the kube-proxy DaemonSet status computed in the same pass.
    """
    cluster = SimCluster(settings=settings)
    now = format_time(cluster.clock.now())
    with cluster.paused():
        for name in manifests.NAMESPACES:
            cluster.create(manifests.namespace(name))
        for index in range(1, nodes + 1):
            cluster.store.create(resources.NODES, manifests.node(index, created=now))
        _seed_kube_proxy(cluster, nodes, now)
        _seed_apps(
            cluster, nodes=nodes, services=services, pods=pods, namespaces=namespaces, now=now
        )
    return cluster
