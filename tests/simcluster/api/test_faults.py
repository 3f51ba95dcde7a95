"""Injected API faults: seeded 429s with Retry-After, 500s, latency, filtered by verb/resource."""

from __future__ import annotations

import time

import pytest
from kubernetes import client

from simcluster.api_faults import ApiFaults
from simcluster.cluster import SimCluster
from simcluster.errors import InternalError, TooManyRequestsError
from tests.simcluster.api import manifests
from tests.simcluster.api.clusters import ApiClient, CoreApi, api
from tests.simcluster.api.status import status_of


def test_a_full_throttle_rate_always_answers_429() -> None:
    faults = ApiFaults(throttle_rate=1.0, retry_after_seconds=3)
    error = faults.draw("list", "pods")
    assert isinstance(error, TooManyRequestsError)
    assert error.to_status()["details"] == {"retryAfterSeconds": 3}


def test_a_full_error_rate_always_answers_500() -> None:
    assert isinstance(ApiFaults(error_rate=1.0).draw("get", "pods"), InternalError)


def test_the_same_seed_draws_the_same_faults() -> None:
    def outcomes(seed: int) -> list[str]:
        faults = ApiFaults(throttle_rate=0.3, error_rate=0.3, seed=seed)
        return [type(faults.draw("get", "pods")).__name__ for _ in range(50)]

    assert outcomes(7) == outcomes(7)
    assert {"TooManyRequestsError", "InternalError", "NoneType"} <= set(outcomes(7))


@pytest.mark.parametrize(
    ("verbs", "resources", "verb", "resource", "applies"),
    [
        (None, None, "get", "pods", True),
        (frozenset({"delete"}), None, "get", "pods", False),
        (frozenset({"delete"}), None, "delete", "pods", True),
        (None, frozenset({"pods"}), "get", "pods/log", True),
        (None, frozenset({"pods/exec"}), "get", "pods/log", False),
        (None, frozenset({"services"}), "get", "pods", False),
    ],
)
def test_faults_apply_only_to_the_chosen_verbs_and_resources(
    verbs: frozenset[str] | None,
    resources: frozenset[str] | None,
    verb: str,
    resource: str,
    applies: bool,
) -> None:
    faults = ApiFaults(error_rate=1.0, verbs=verbs, resources=resources)
    assert faults.applies_to(verb, resource) is applies
    assert (faults.draw(verb, resource) is not None) is applies


def test_clear_removes_every_fault() -> None:
    faults = ApiFaults(latency_seconds=1, throttle_rate=1, error_rate=1, verbs=frozenset({"get"}))
    faults.clear()
    assert faults.draw("get", "pods") is None
    assert faults.delay_for("get", "pods") == 0


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
