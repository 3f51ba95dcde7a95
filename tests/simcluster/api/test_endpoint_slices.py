"""A big Service through the official client: its endpoints spread over slices of 100."""

from __future__ import annotations

from kubernetes import client

from simcluster import manifests
from simcluster.cluster import SimCluster
from simcluster.store import format_time
from tests.simcluster.api.clusters import ApiClient, AppsApi, CoreApi, api

HTTP = [{"name": "http", "containerPort": 8080, "protocol": "TCP"}]
SERVICE_PORTS = [{"name": "http", "port": 80, "protocol": "TCP", "targetPort": "http"}]


def test_every_pod_of_a_250_pod_service_is_in_one_of_its_three_slices(
    cluster: SimCluster, admin_client: ApiClient, apps: AppsApi, core: CoreApi
) -> None:
    # A second node: one node's /24 holds 250 pod IPs, exactly what the Deployment asks for.
    cluster.create(manifests.node(2, created=format_time(cluster.clock.now())))
    apps.create_namespaced_deployment(
        "default",
        manifests.deployment("default", "big", image="shop/big:1", replicas=250, ports=HTTP),
    )
    core.create_namespaced_service(
        "default", manifests.service("default", "big", ports=SERVICE_PORTS, selector={"app": "big"})
    )
    cluster.settle(timeout=30)

    discovery = api(client.DiscoveryV1Api, admin_client)
    slices = discovery.list_namespaced_endpoint_slice(
        "default", label_selector="kubernetes.io/service-name=big"
    ).items
    assert sorted(len(s.endpoints) for s in slices) == [50, 100, 100]
    assert all(s.metadata.generate_name == "big-" for s in slices)
    assert {s.metadata.labels["endpointslice.kubernetes.io/managed-by"] for s in slices} == {
        "endpointslice-controller.k8s.io"
    }
    # What the engine's readers do: add up the ready endpoints of every slice of the Service.
    ready = [e.addresses[0] for s in slices for e in s.endpoints if e.conditions.ready]
    pods = core.list_namespaced_pod("default", label_selector="app=big").items
    assert sorted(ready) == sorted(p.status.pod_ip for p in pods)
    assert len(set(ready)) == 250
    [subset] = core.read_namespaced_endpoints("big", "default").subsets
    assert len(subset.addresses) == 250
