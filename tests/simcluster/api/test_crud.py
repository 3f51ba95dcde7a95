"""Every verb through the official client, whose typed models deserialize the answers."""

from __future__ import annotations

import pytest
from kubernetes import client

from simcluster.cluster import SimCluster
from tests.simcluster.api import manifests
from tests.simcluster.api.clusters import ApiClient, AppsApi, CoreApi, api


def test_created_pod_is_read_back_as_a_typed_model(core: CoreApi) -> None:
    created = core.create_namespaced_pod("default", manifests.pod("web-1", labels={"app": "web"}))
    read = core.read_namespaced_pod("web-1", "default")
    assert read.metadata.uid == created.metadata.uid
    assert read.metadata.labels == {"app": "web"}
    assert read.spec.containers[0].image == "registry.local/app:1.0"
    assert int(read.metadata.resource_version) > 0
    assert isinstance(read, client.V1Pod)


def test_list_is_a_pod_list_with_a_resource_version(core: CoreApi) -> None:
    for name in ("b-pod", "a-pod"):
        core.create_namespaced_pod("default", manifests.pod(name, labels={"suite": "list"}))
    listed = core.list_namespaced_pod("default", label_selector="suite=list")
    assert listed.kind == "PodList"
    assert listed.api_version == "v1"
    assert int(listed.metadata.resource_version) > 0
    assert [p.metadata.name for p in listed.items] == ["a-pod", "b-pod"]
    assert isinstance(listed, client.V1PodList)


def test_list_across_namespaces_sees_every_namespace(core: CoreApi) -> None:
    core.create_namespaced_pod("default", manifests.pod("here", labels={"suite": "all-ns"}))
    core.create_namespaced_pod("kube-system", manifests.pod("there", labels={"suite": "all-ns"}))
    listed = core.list_pod_for_all_namespaces(label_selector="suite=all-ns")
    assert {(p.metadata.namespace, p.metadata.name) for p in listed.items} == {
        ("default", "here"),
        ("kube-system", "there"),
    }


def test_limit_and_continue_page_through_a_list(core: CoreApi) -> None:
    for i in range(5):
        core.create_namespaced_pod("default", manifests.pod(f"page-{i}", labels={"suite": "page"}))
    first = core.list_namespaced_pod("default", label_selector="suite=page", limit=2)
    second = core.list_namespaced_pod(
        "default", label_selector="suite=page", limit=2, _continue=first.metadata._continue
    )
    third = core.list_namespaced_pod(
        "default", label_selector="suite=page", limit=2, _continue=second.metadata._continue
    )
    names = [p.metadata.name for page in (first, second, third) for p in page.items]
    assert names == [f"page-{i}" for i in range(5)]
    assert first.metadata.remaining_item_count == 3
    assert third.metadata._continue is None


def test_replace_changes_the_object_and_bumps_its_resource_version(
    core: CoreApi,
) -> None:
    created = core.create_namespaced_service(
        "default", manifests.service("web", selector={"app": "web"})
    )
    created.metadata.labels = {"tier": "frontend"}
    replaced = core.replace_namespaced_service("web", "default", created)
    assert replaced.metadata.labels == {"tier": "frontend"}
    assert int(replaced.metadata.resource_version) > int(created.metadata.resource_version)


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/merge-patch+json", {"metadata": {"labels": {"patched": "merge"}}}),
        ("application/strategic-merge-patch+json", {"metadata": {"labels": {"patched": "smp"}}}),
        (
            "application/json-patch+json",
            [{"op": "add", "path": "/metadata/labels", "value": {"patched": "json"}}],
        ),
    ],
)
def test_patch_applies_each_patch_type(core: CoreApi, content_type: str, body: object) -> None:
    core.create_namespaced_service("default", manifests.service("web", selector={"app": "web"}))
    patched = core.patch_namespaced_service("web", "default", body, _content_type=content_type)
    assert patched.metadata.labels["patched"] in ("merge", "smp", "json")
    assert core.read_namespaced_service("web", "default").metadata.labels == (
        patched.metadata.labels
    )


def test_status_subresource_changes_only_the_status(core: CoreApi) -> None:
    core.create_namespaced_service("default", manifests.service("web", selector={"app": "web"}))
    ingress = {"loadBalancer": {"ingress": [{"ip": "192.0.2.10"}]}}
    patched = core.patch_namespaced_service_status(
        "web", "default", {"metadata": {"labels": {"ignored": "yes"}}, "status": ingress}
    )
    assert patched.status.load_balancer.ingress[0].ip == "192.0.2.10"
    assert "ignored" not in (patched.metadata.labels or {})
    read = core.read_namespaced_service_status("web", "default")
    assert read.status.load_balancer.ingress[0].ip == "192.0.2.10"


def test_main_resource_writes_keep_the_stored_status(core: CoreApi) -> None:
    core.create_namespaced_service("default", manifests.service("web", selector={"app": "web"}))
    core.patch_namespaced_service(
        "web", "default", {"status": {"loadBalancer": {"ingress": [{"ip": "192.0.2.99"}]}}}
    )
    assert core.read_namespaced_service("web", "default").status.load_balancer.ingress is None


def test_delete_returns_the_object_and_it_is_gone(core: CoreApi) -> None:
    created = core.create_namespaced_pod("default", manifests.pod("doomed"))
    # No grace period: the pod goes at once, scheduled yet or not.
    deleted = core.delete_namespaced_pod("doomed", "default", grace_period_seconds=0)
    assert deleted.metadata.uid == created.metadata.uid
    with pytest.raises(client.ApiException) as raised:
        core.read_namespaced_pod("doomed", "default")
    assert raised.value.status == 404


def test_delete_collection_removes_only_the_selected_objects(core: CoreApi) -> None:
    for name, tier in (("a", "cache"), ("b", "cache"), ("c", "db")):
        core.create_namespaced_pod("default", manifests.pod(name, labels={"tier": tier}))
    core.delete_collection_namespaced_pod(
        "default", label_selector="tier=cache", grace_period_seconds=0
    )
    remaining = core.list_namespaced_pod("default", label_selector="tier")
    assert [p.metadata.name for p in remaining.items] == ["c"]


def test_daemonsets_are_served_by_the_apps_group(apps: AppsApi) -> None:
    created = apps.create_namespaced_daemon_set(
        "kube-system", manifests.daemonset("node-agent", app="node-agent")
    )
    listed = apps.list_namespaced_daemon_set("kube-system", label_selector="app=node-agent")
    assert [d.metadata.name for d in listed.items] == ["node-agent"]
    patched = apps.patch_namespaced_daemon_set(
        "node-agent",
        "kube-system",
        {"spec": {"template": {"metadata": {"annotations": {"restartedAt": "now"}}}}},
    )
    assert patched.spec.template.metadata.annotations == {"restartedAt": "now"}
    assert patched.metadata.generation == created.metadata.generation + 1
    assert isinstance(patched, client.V1DaemonSet)
    apps.delete_namespaced_daemon_set("node-agent", "kube-system")
    assert (
        apps.list_namespaced_daemon_set("kube-system", label_selector="app=node-agent").items == []
    )


def test_endpoint_slices_are_served_by_the_discovery_group(
    admin_client: ApiClient,
) -> None:
    discovery_api = api(client.DiscoveryV1Api, admin_client)
    discovery_api.create_namespaced_endpoint_slice(
        "default", manifests.endpoint_slice("web-abc", service_name="web", addresses=["10.0.0.7"])
    )
    listed = discovery_api.list_namespaced_endpoint_slice(
        "default", label_selector="kubernetes.io/service-name=web"
    )
    assert [s.metadata.name for s in listed.items] == ["web-abc"]
    assert listed.items[0].endpoints[0].addresses == ["10.0.0.7"]
    replaced_body = listed.items[0]
    replaced_body.endpoints[0].conditions.ready = False
    replaced = discovery_api.replace_namespaced_endpoint_slice("web-abc", "default", replaced_body)
    assert replaced.endpoints[0].conditions.ready is False
    discovery_api.delete_namespaced_endpoint_slice("web-abc", "default")
    assert discovery_api.list_namespaced_endpoint_slice("default").items == []


def test_dry_run_create_validates_without_storing(core: CoreApi) -> None:
    answered = core.create_namespaced_pod("default", manifests.pod("dry"), dry_run="All")
    assert answered.metadata.name == "dry"
    with pytest.raises(client.ApiException) as raised:
        core.read_namespaced_pod("dry", "default")
    assert raised.value.status == 404


def test_namespaces_and_nodes_are_cluster_scoped(core: CoreApi) -> None:
    core.create_namespace({"metadata": {"name": "shop"}})
    core.create_node({"metadata": {"name": "node-9", "labels": {"role": "worker"}}})
    assert "shop" in [n.metadata.name for n in core.list_namespace().items]
    assert core.read_node("node-9").metadata.labels == {"role": "worker"}


def test_a_deleted_namespace_terminates_then_goes_with_what_is_in_it(
    core: CoreApi, cluster: SimCluster
) -> None:
    core.create_namespace({"metadata": {"name": "shop"}})
    core.create_namespaced_pod("shop", manifests.pod("cart"))
    core.create_namespaced_config_map("shop", {"metadata": {"name": "settings"}})

    core.delete_namespace("shop")

    assert core.read_namespace("shop").status.phase == "Terminating"
    core.delete_namespaced_config_map("settings", "shop")
    with pytest.raises(client.ApiException) as refused:
        core.create_namespaced_pod("shop", manifests.pod("late"))
    assert refused.value.status == 403
    assert "because it is being terminated" in str(refused.value.body)
    cluster.settle()
    assert core.list_namespaced_pod("shop").items == []
    with pytest.raises(client.ApiException) as raised:
        core.read_namespace("shop")
    assert raised.value.status == 404
