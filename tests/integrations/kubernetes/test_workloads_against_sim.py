"""Acting on workloads: deleting pods with preconditions and patching the kube-proxy DaemonSet."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from integrations.kubernetes import (
    Conflict,
    Invalid,
    JsonPatch,
    JsonPatchOperation,
    Kube,
    NotFound,
    StrategicMergePatch,
)
from integrations.kubernetes.views import DaemonSet, Pod
from tests.integrations.kubernetes.polling import eventually

KUBE_PROXY = {"k8s-app": "kube-proxy"}
IMAGE_PATH = "/spec/template/spec/containers/0/image"
HISTORY_LIMIT_PATH = "/spec/revisionHistoryLimit"
STALE_UID = "00000000-0000-0000-0000-000000000000"


def kube_proxy_on(kube: Kube, node: str) -> Pod | None:
    pods = kube.list_pods(
        "kube-system", label_selector=KUBE_PROXY, field_selector=f"spec.nodeName={node}"
    )
    live = [pod for pod in pods if not pod.meta.deleting]
    return live[0] if live else None


def test_deleted_daemon_set_pod_comes_back_with_a_new_name(admin_kube: Kube) -> None:
    victim = admin_kube.list_pods("kube-system", label_selector=KUBE_PROXY)[0]
    node = victim.node_name
    assert node is not None

    admin_kube.delete_pod(
        victim.meta.name, "kube-system", uid=victim.meta.uid, grace_period_seconds=0
    )

    def replacement() -> Pod | None:
        pod = kube_proxy_on(admin_kube, node)
        return pod if pod is not None and pod.meta.uid != victim.meta.uid else None

    new_pod = eventually(replacement, what=f"a new kube-proxy pod on {node}")
    assert new_pod.meta.name != victim.meta.name


def test_deleting_with_a_stale_uid_is_a_conflict_and_spares_the_pod(admin_kube: Kube) -> None:
    pod = admin_kube.list_pods("kube-system", label_selector=KUBE_PROXY)[0]

    with pytest.raises(Conflict):
        admin_kube.delete_pod(
            pod.meta.name, "kube-system", uid="00000000-0000-0000-0000-000000000000"
        )

    assert admin_kube.get_pod(pod.meta.name, "kube-system").meta.uid == pod.meta.uid


def test_deleting_a_missing_pod_is_not_found(admin_kube: Kube) -> None:
    with pytest.raises(NotFound):
        admin_kube.delete_pod("kube-proxy-gone", "kube-system")


@pytest.fixture
def restore_kube_proxy(admin_kube: Kube) -> Iterator[DaemonSet]:
    """The kube-proxy DaemonSet as it was; its spec fields are put back after the test."""
    before = admin_kube.get_daemon_set("kube-proxy", "kube-system")
    yield before
    spec = before.raw["spec"]
    restore = {key: spec.get(key) for key in ("minReadySeconds", "revisionHistoryLimit")}
    admin_kube.patch_daemon_set("kube-proxy", "kube-system", StrategicMergePatch({"spec": restore}))


def test_strategic_merge_patch_changes_the_spec_and_bumps_the_generation(
    admin_kube: Kube, restore_kube_proxy: DaemonSet
) -> None:
    before = restore_kube_proxy
    min_ready = int(before.raw["spec"].get("minReadySeconds", 0)) + 1
    patch = StrategicMergePatch({"spec": {"minReadySeconds": min_ready}})

    after = admin_kube.patch_daemon_set("kube-proxy", "kube-system", patch)

    assert after.raw["spec"]["minReadySeconds"] == min_ready
    assert after.images == before.images
    assert (after.meta.generation or 0) > (before.meta.generation or 0)


@pytest.mark.usefixtures("restore_kube_proxy")
def test_json_patch_applies_when_its_test_holds(admin_kube: Kube) -> None:
    image = admin_kube.get_daemon_set("kube-proxy", "kube-system").images[0]
    patch = JsonPatch(
        (
            JsonPatchOperation("test", IMAGE_PATH, image),
            JsonPatchOperation("add", HISTORY_LIMIT_PATH, 7),
        )
    )

    after = admin_kube.patch_daemon_set("kube-proxy", "kube-system", patch)

    assert after.raw["spec"]["revisionHistoryLimit"] == 7


def test_json_patch_whose_test_fails_is_invalid_and_changes_nothing(admin_kube: Kube) -> None:
    before = admin_kube.get_daemon_set("kube-proxy", "kube-system")
    patch = JsonPatch(
        (
            JsonPatchOperation("test", IMAGE_PATH, "registry.k8s.io/kube-proxy:v0.0.0"),
            JsonPatchOperation("replace", IMAGE_PATH, "registry.k8s.io/kube-proxy:v9.9.9"),
        )
    )

    with pytest.raises(Invalid):
        admin_kube.patch_daemon_set("kube-proxy", "kube-system", patch)

    after = admin_kube.get_daemon_set("kube-proxy", "kube-system")
    assert after.images == before.images
    assert after.meta.resource_version == before.meta.resource_version
