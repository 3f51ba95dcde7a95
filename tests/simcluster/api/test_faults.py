"""The API server answers with the injected faults: 429 with Retry-After, 500, latency."""

from __future__ import annotations

import time

import pytest
from kubernetes import client

from simcluster.cluster import SimCluster
from tests.simcluster.api import manifests
from tests.simcluster.api.clusters import ApiClient, CoreApi, api
from tests.simcluster.api.status import status_of


def test_throttled_requests_get_429_with_retry_after(cluster: SimCluster, core: CoreApi) -> None:
    cluster.api_faults.throttle_rate = 1.0
    cluster.api_faults.retry_after_seconds = 2
    with pytest.raises(client.ApiException) as raised:
        core.list_namespaced_pod("default")
    assert raised.value.status == 429
    assert raised.value.headers is not None
    assert raised.value.headers["Retry-After"] == "2"
    status = status_of(raised.value)
    assert status["reason"] == "TooManyRequests"
    assert status["details"]["retryAfterSeconds"] == 2


def test_failing_requests_get_500_only_for_the_chosen_verb(
    cluster: SimCluster, core: CoreApi
) -> None:
    cluster.api_faults.error_rate = 1.0
    cluster.api_faults.verbs = frozenset({"delete"})
    core.create_namespaced_pod("default", manifests.pod("web-1"))
    with pytest.raises(client.ApiException) as raised:
        core.delete_namespaced_pod("web-1", "default")
    assert raised.value.status == 500
    assert status_of(raised.value)["reason"] == "InternalError"
    assert core.read_namespaced_pod("web-1", "default").metadata.name == "web-1"


def test_latency_delays_matching_requests(cluster: SimCluster, core: CoreApi) -> None:
    cluster.api_faults.latency_seconds = 0.3
    cluster.api_faults.resources = frozenset({"services"})
    started = time.monotonic()
    core.list_namespaced_service("default")
    assert time.monotonic() - started >= 0.3


def test_discovery_and_version_are_never_faulted(
    cluster: SimCluster, admin_client: ApiClient
) -> None:
    cluster.api_faults.error_rate = 1.0
    assert api(client.CoreApi, admin_client).get_api_versions().versions == ["v1"]
    assert api(client.VersionApi, admin_client).get_code().major == "1"
    resources = api(client.CoreV1Api, admin_client).get_api_resources()
    assert "pods" in [r.name for r in resources.resources]
