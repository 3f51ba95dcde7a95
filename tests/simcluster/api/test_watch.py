"""Watches stream changes as the official client's Watch expects: replay, 410, timeout, filters."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client, watch

from simcluster.server import SimServer
from simcluster.store import Store
from tests.simcluster.api import manifests
from tests.simcluster.api.clusters import CoreApi, api, api_client_for, new_cluster

# The client's Watch is unannotated; Any keeps strict mypy from flagging each call.
kube_watch: Any = watch


def _events(stream: Any) -> list[tuple[str, str]]:
    return [(event["type"], event["object"].metadata.name) for event in stream]


def test_watch_from_a_resource_version_replays_later_changes(core: CoreApi) -> None:
    start = core.list_namespaced_service("default").metadata.resource_version
    core.create_namespaced_service("default", manifests.service("web", selector={"app": "web"}))
    core.patch_namespaced_service("web", "default", {"metadata": {"labels": {"seen": "yes"}}})
    core.delete_namespaced_service("web", "default")
    stream = kube_watch.Watch().stream(
        core.list_namespaced_service, "default", resource_version=start, timeout_seconds=1
    )
    assert _events(stream) == [("ADDED", "web"), ("MODIFIED", "web"), ("DELETED", "web")]


def test_watch_without_a_resource_version_starts_with_the_current_objects(
    core: CoreApi,
) -> None:
    core.create_namespaced_config_map("default", {"metadata": {"name": "existing"}})
    stream = kube_watch.Watch().stream(
        core.list_namespaced_config_map, "default", timeout_seconds=1
    )
    assert _events(stream) == [("ADDED", "existing")]


def test_watch_from_a_compacted_resource_version_is_410_gone(tmp_path: Path) -> None:
    cluster = new_cluster(store=Store(history=3))
    with SimServer(cluster) as server:
        api_client = api_client_for(server, server.write_kubeconfig(tmp_path / "kubeconfig"))
        core = api(client.CoreV1Api, api_client)
        for index in range(5):
            core.create_namespaced_config_map("default", {"metadata": {"name": f"cm-{index}"}})
        with pytest.raises(client.ApiException) as raised:
            list(
                kube_watch.Watch().stream(
                    core.list_namespaced_config_map,
                    "default",
                    resource_version="2",
                    timeout_seconds=1,
                )
            )
        api_client.close()
    assert raised.value.status == 410


def test_timeout_seconds_ends_the_stream(core: CoreApi) -> None:
    started = time.monotonic()
    events = list(
        kube_watch.Watch().stream(core.list_namespaced_service, "default", timeout_seconds=1)
    )
    elapsed = time.monotonic() - started
    assert all(event["type"] == "ADDED" for event in events)
    assert 0.9 <= elapsed < 5


def test_label_filtered_watch_sees_only_matching_live_changes(core: CoreApi) -> None:
    start = core.list_namespaced_pod("default").metadata.resource_version
    seen: list[tuple[str, str]] = []

    def watch_in_background() -> None:
        stream = kube_watch.Watch().stream(
            core.list_namespaced_pod,
            "default",
            label_selector="app=web",
            resource_version=start,
            timeout_seconds=2,
        )
        seen.extend(_events(stream))

    watcher = threading.Thread(target=watch_in_background)
    watcher.start()
    time.sleep(0.3)
    core.create_namespaced_pod("default", manifests.pod("web-1", labels={"app": "web"}))
    core.create_namespaced_pod("default", manifests.pod("db-1", labels={"app": "db"}))
    core.patch_namespaced_pod("web-1", "default", {"metadata": {"labels": {"app": "retired"}}})
    watcher.join(timeout=10)
    assert [event for event in seen if event[1] == "db-1"] == []
    assert seen[0] == ("ADDED", "web-1")
    assert seen[-1] == ("DELETED", "web-1")  # relabelled out of the selector
