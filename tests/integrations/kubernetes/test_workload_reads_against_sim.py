"""The reads a diagnosis of a Service's workloads needs: ReplicaSets, StatefulSets, Events, and
what ControllerRevisions and unschedulable pods tell."""

from __future__ import annotations

from typing import Any

from integrations.kubernetes import Kube
from tests.integrations.kubernetes.polling import eventually


def _stateful_set(name: str, replicas: int) -> dict[str, Any]:
    labels = {"app": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": name, "namespace": "shop"},
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


def test_a_deployments_replica_sets_carry_its_template_labels_and_owner(admin_kube: Kube) -> None:
    [replica_set] = admin_kube.list_replica_sets("shop", label_selector={"app": "web"})

    assert replica_set.template_labels["app"] == "web"
    assert replica_set.replicas == 3
    controller = replica_set.meta.controller
    assert controller is not None
    assert (controller.kind, controller.name) == ("Deployment", "web")
    [deployment] = [d for d in admin_kube.list_deployments("shop") if d.meta.name == "web"]
    assert deployment.template_labels == {"app": "web"}


def test_stateful_sets_are_read_by_the_engine_as_by_admin(
    admin_kube: Kube, engine_kube: Kube, sim: Any
) -> None:
    sim.cluster.create(_stateful_set("db", 0))

    [db] = admin_kube.list_stateful_sets("shop")
    # deploy/rbac grants them: one scaled to zero must not be taken for a selector fault.
    [seen] = engine_kube.list_stateful_sets("shop")

    assert (db.meta.name, db.replicas, db.template_labels) == ("db", 0, {"app": "db"})
    assert seen.meta.name == "db"


def test_the_current_revision_hash_is_the_one_its_pods_carry(admin_kube: Kube) -> None:
    daemon_set = admin_kube.get_daemon_set("kube-proxy", "kube-system")
    [revision] = admin_kube.list_daemon_set_revisions(daemon_set)
    pods = admin_kube.list_pods("kube-system", label_selector={"k8s-app": "kube-proxy"})

    assert {pod.meta.labels["controller-revision-hash"] for pod in pods} == {revision.hash}
    assert revision.template["spec"]["containers"][0]["name"] == "kube-proxy"


def test_events_about_pods_are_listed_for_a_namespace(admin_kube: Kube) -> None:
    def kube_proxy_started() -> bool:
        events = admin_kube.list_events("kube-system", field_selector="involvedObject.kind=Pod")
        return any(e.reason == "Started" for e in events)

    assert eventually(kube_proxy_started, what="kube-proxy pods' Started events")


def test_a_pod_no_node_has_room_for_says_why(admin_kube: Kube, sim: Any) -> None:
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "big", "namespace": "shop"},
        "spec": {
            "containers": [
                {
                    "name": "big",
                    "image": "registry.k8s.io/pause:3.9",
                    "resources": {"requests": {"cpu": "64"}},
                }
            ]
        },
    }
    sim.cluster.create(pod)

    def why() -> str | None:
        return admin_kube.get_pod("big", "shop").unschedulable

    message = eventually(why, what="the scheduler's verdict")
    assert isinstance(message, str)
    assert "Insufficient cpu" in message
