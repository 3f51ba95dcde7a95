"""The store versions, indexes and publishes objects the way the apiserver's storage does."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from simcluster import resources
from simcluster.errors import (
    AlreadyExistsError,
    ConflictError,
    GoneError,
    InvalidError,
    NotFoundError,
)
from simcluster.selectors import parse_field_selector, parse_label_selector
from simcluster.store import Store, supports_field
from simcluster.watch import ChangeEvent

PODS = resources.PODS


def _pod(
    name: str, *, labels: dict[str, str] | None = None, node: str = "node-1"
) -> dict[str, Any]:
    return {
        "metadata": {"name": name, "labels": labels or {}},
        "spec": {"nodeName": node, "containers": [{"name": "app", "image": "nginx"}]},
        "status": {"phase": "Running"},
    }


@pytest.fixture
def store() -> Store:
    store = Store(clock=lambda: datetime(2026, 11, 25, 18, 0, 0, tzinfo=UTC), history=50)
    for ns in ("default", "shop", "kube-system"):
        store.create(resources.NAMESPACES, {"metadata": {"name": ns}})
    return store


def test_create_sets_server_owned_metadata(store: Store) -> None:
    created = store.create(
        resources.DAEMONSETS, {"metadata": {"name": "kp"}, "spec": {}}, namespace="kube-system"
    )
    meta = created["metadata"]
    assert created["apiVersion"] == "apps/v1"
    assert created["kind"] == "DaemonSet"
    assert meta["namespace"] == "kube-system"
    assert len(meta["uid"]) == 36
    assert meta["creationTimestamp"] == "2026-11-25T18:00:00Z"
    assert meta["generation"] == 1
    assert int(meta["resourceVersion"]) == store.resource_version


def test_resource_versions_increase_monotonically(store: Store) -> None:
    first = store.create(PODS, _pod("a"), namespace="shop")
    second = store.create(PODS, _pod("b"), namespace="shop")
    assert int(second["metadata"]["resourceVersion"]) > int(first["metadata"]["resourceVersion"])


def test_generate_name_appends_five_random_characters(store: Store) -> None:
    created = store.create(
        PODS, {"metadata": {"generateName": "web-"}, "spec": {}}, namespace="shop"
    )
    name = created["metadata"]["name"]
    assert name.startswith("web-")
    assert len(name) == len("web-") + 5


def test_creating_a_taken_name_is_already_exists(store: Store) -> None:
    store.create(PODS, _pod("a"), namespace="shop")
    with pytest.raises(AlreadyExistsError, match='pods "a" already exists'):
        store.create(PODS, _pod("a"), namespace="shop")


def test_creating_into_a_missing_namespace_is_not_found(store: Store) -> None:
    with pytest.raises(NotFoundError, match='namespaces "nowhere" not found'):
        store.create(PODS, _pod("a"), namespace="nowhere")


def test_creating_without_a_name_is_invalid(store: Store) -> None:
    with pytest.raises(InvalidError) as error:
        store.create(PODS, {"metadata": {}}, namespace="shop")
    assert error.value.details["causes"][0]["field"] == "metadata.name"


def test_reads_are_copies_that_cannot_change_stored_state(store: Store) -> None:
    store.create(PODS, _pod("a"), namespace="shop")
    copy = store.get(PODS, "shop", "a")
    copy["metadata"]["labels"]["tampered"] = "yes"
    assert "tampered" not in store.get(PODS, "shop", "a")["metadata"]["labels"]


def test_missing_object_is_not_found_in_kubernetes_wording(store: Store) -> None:
    with pytest.raises(NotFoundError, match=r'daemonsets\.apps "kube-proxy" not found'):
        store.get(resources.DAEMONSETS, "kube-system", "kube-proxy")


def test_list_filters_by_namespace_labels_and_fields(store: Store) -> None:
    store.create(PODS, _pod("kp-1", labels={"k8s-app": "kube-proxy"}), namespace="kube-system")
    store.create(
        PODS, _pod("kp-2", labels={"k8s-app": "kube-proxy"}, node="node-2"), namespace="kube-system"
    )
    store.create(PODS, _pod("web-1", labels={"app": "web"}), namespace="shop")
    by_label = store.list_objects(PODS, label_selector=parse_label_selector("k8s-app=kube-proxy"))
    assert [p["metadata"]["name"] for p in by_label] == ["kp-1", "kp-2"]
    on_node_1 = store.list_objects(
        PODS,
        field_selector=parse_field_selector("spec.nodeName=node-1", supported=supports_field(PODS)),
    )
    assert [p["metadata"]["name"] for p in on_node_1] == ["kp-1", "web-1"]
    assert [p["metadata"]["name"] for p in store.list_objects(PODS, namespace="shop")] == ["web-1"]


def test_replace_with_a_stale_resource_version_is_a_conflict(store: Store) -> None:
    created = store.create(PODS, _pod("a"), namespace="shop")
    store.update(PODS, "shop", "a", lambda pod: pod["metadata"]["labels"].update(v="2"))
    with pytest.raises(ConflictError, match="the object has been modified"):
        store.replace(PODS, created)


def test_replace_keeps_uid_and_status_of_the_stored_object(store: Store) -> None:
    created = store.create(PODS, _pod("a"), namespace="shop")
    created["metadata"]["uid"] = "forged"
    created["status"] = {"phase": "Failed"}
    replaced = store.replace(PODS, created)
    assert replaced["metadata"]["uid"] != "forged"
    assert replaced["status"] == {"phase": "Running"}


def test_replace_cannot_mark_an_object_for_deletion(store: Store) -> None:
    created = store.create(PODS, _pod("a"), namespace="shop")
    created["metadata"].update(
        deletionTimestamp="2026-11-25T18:00:30Z", deletionGracePeriodSeconds=30
    )
    replaced = store.replace(PODS, created)
    assert "deletionTimestamp" not in replaced["metadata"]
    assert "deletionGracePeriodSeconds" not in replaced["metadata"]


def test_status_subresource_replace_changes_only_the_status(store: Store) -> None:
    created = store.create(PODS, _pod("a"), namespace="shop")
    created["status"] = {"phase": "Failed"}
    created["spec"]["nodeName"] = "elsewhere"
    replaced = store.replace(PODS, created, subresource="status")
    assert replaced["status"] == {"phase": "Failed"}
    assert replaced["spec"]["nodeName"] == "node-1"


def test_spec_change_bumps_generation_but_status_change_does_not(store: Store) -> None:
    ds = resources.DAEMONSETS
    store.create(ds, {"metadata": {"name": "kp"}, "spec": {"x": 1}}, namespace="kube-system")
    store.update(ds, "kube-system", "kp", lambda o: o.update(status={"numberReady": 1}))
    assert store.get(ds, "kube-system", "kp")["metadata"]["generation"] == 1
    store.update(ds, "kube-system", "kp", lambda o: o["spec"].update(x=2))
    assert store.get(ds, "kube-system", "kp")["metadata"]["generation"] == 2


def test_an_update_that_changes_nothing_commits_nothing(store: Store) -> None:
    store.create(PODS, _pod("a"), namespace="shop")
    before = store.resource_version
    store.update(PODS, "shop", "a", lambda pod: None)
    assert store.resource_version == before


def test_delete_honours_uid_precondition(store: Store) -> None:
    store.create(PODS, _pod("a"), namespace="shop")
    with pytest.raises(ConflictError, match="Precondition failed"):
        store.delete(PODS, "shop", "a", uid="someone-else")
    deleted = store.delete(PODS, "shop", "a")
    assert "deletionTimestamp" in deleted["metadata"]
    assert not store.exists(PODS, "shop", "a")


def test_a_deleted_object_keeps_the_deletion_deadline_it_was_given(store: Store) -> None:
    store.create(PODS, _pod("a"), namespace="shop")
    deadline = "2026-11-25T18:00:30Z"
    store.update(PODS, "shop", "a", lambda pod: pod["metadata"].update(deletionTimestamp=deadline))
    assert store.delete(PODS, "shop", "a")["metadata"]["deletionTimestamp"] == deadline


def test_watch_replays_changes_after_a_resource_version(store: Store) -> None:
    start = store.resource_version
    store.create(PODS, _pod("a"), namespace="shop")
    store.update(PODS, "shop", "a", lambda pod: pod["metadata"]["labels"].update(v="2"))
    store.delete(PODS, "shop", "a")
    seen: list[ChangeEvent] = []
    store.subscribe(PODS, seen.append, since=start)
    assert [e.type for e in seen] == ["ADDED", "MODIFIED", "DELETED"]


def test_watch_from_a_revision_older_than_history_is_gone(store: Store) -> None:
    start = store.resource_version
    for i in range(60):
        store.create(PODS, _pod(f"p{i}"), namespace="shop")
    with pytest.raises(GoneError, match="too old resource version"):
        store.subscribe(PODS, lambda e: None, since=start)


def test_label_filtered_watch_sees_objects_enter_and_leave_its_selection(store: Store) -> None:
    seen: list[ChangeEvent] = []
    store.subscribe(PODS, seen.append, label_selector=parse_label_selector("app=web"))
    store.create(PODS, _pod("a", labels={"app": "db"}), namespace="shop")
    store.update(PODS, "shop", "a", lambda pod: pod["metadata"]["labels"].update(app="web"))
    store.update(PODS, "shop", "a", lambda pod: pod["metadata"]["labels"].update(app="db"))
    assert [e.type for e in seen] == ["ADDED", "DELETED"]


def test_cancelled_watch_receives_nothing_more(store: Store) -> None:
    seen: list[ChangeEvent] = []
    subscription = store.subscribe(PODS, seen.append)
    store.create(PODS, _pod("a"), namespace="shop")
    subscription.cancel()
    store.create(PODS, _pod("b"), namespace="shop")
    assert [e.name for e in seen] == ["a"]


def test_listeners_receive_every_change_of_every_type(store: Store) -> None:
    seen: list[tuple[str, str]] = []
    store.listen(lambda e: seen.append((e.resource.kind, e.type)))
    store.create(PODS, _pod("a"), namespace="shop")
    store.create(resources.SERVICES, {"metadata": {"name": "web"}, "spec": {}}, namespace="shop")
    assert seen == [("Pod", "ADDED"), ("Service", "ADDED")]
