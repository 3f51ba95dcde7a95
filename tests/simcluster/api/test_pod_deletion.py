"""Deleting pods through the official client: Terminating for the grace period, then gone."""

from __future__ import annotations

import time

import pytest
from kubernetes import client

from simcluster.api.bodies import parse_delete_options
from simcluster.cluster import SimCluster
from simcluster.errors import BadRequestError
from simcluster.settings import SimSettings
from tests.simcluster.api import manifests
from tests.simcluster.api.clusters import CoreApi, new_cluster

# Long enough to read a pod back while it terminates, short enough to wait for it to go.
SLOW_ENOUGH = SimSettings(termination_grace_scale=0.1)


@pytest.fixture
def cluster() -> SimCluster:
    """The API tests' cluster, with pods taking a tenth of their grace period to stop."""
    return new_cluster(settings=SLOW_ENOUGH)


def _gone(core: CoreApi, name: str, *, within: float = 15.0) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            core.read_namespaced_pod(name, "default")
        except client.ApiException as error:
            return bool(error.status == 404)
        time.sleep(0.1)
    return False


def test_a_deleted_pod_is_terminating_with_its_grace_period_then_gone(core: CoreApi) -> None:
    core.create_namespaced_pod("default", manifests.pod("web-1", node="node-1"))
    deleted = core.delete_namespaced_pod("web-1", "default")
    assert deleted.metadata.deletion_grace_period_seconds == 30
    assert deleted.metadata.deletion_timestamp is not None
    still_there = core.read_namespaced_pod("web-1", "default")
    assert still_there.metadata.deletion_timestamp == deleted.metadata.deletion_timestamp
    assert _gone(core, "web-1")


def test_delete_options_with_no_grace_period_remove_the_pod_at_once(core: CoreApi) -> None:
    core.create_namespaced_pod("default", manifests.pod("web-1", node="node-1"))
    core.delete_namespaced_pod("web-1", "default")
    core.delete_namespaced_pod(
        "web-1", "default", body=client.V1DeleteOptions(grace_period_seconds=0)
    )
    with pytest.raises(client.ApiException) as raised:
        core.read_namespaced_pod("web-1", "default")
    assert raised.value.status == 404


def test_a_pod_no_node_runs_is_deleted_at_once(core: CoreApi) -> None:
    pending = manifests.pod("pending")
    # No node has the label: the scheduler leaves the pod Pending, unbound.
    pending["spec"]["nodeSelector"] = {"disk": "none"}
    core.create_namespaced_pod("default", pending)
    deleted = core.delete_namespaced_pod("pending", "default")
    assert deleted.metadata.deletion_grace_period_seconds is None
    with pytest.raises(client.ApiException) as raised:
        core.read_namespaced_pod("pending", "default")
    assert raised.value.status == 404


def test_the_grace_period_comes_from_the_query_or_the_delete_options_body() -> None:
    assert parse_delete_options(b"", {}).grace_period_seconds is None
    assert parse_delete_options(b"", {"gracePeriodSeconds": "0"}).grace_period_seconds == 0
    body = b'{"kind": "DeleteOptions", "apiVersion": "v1", "gracePeriodSeconds": 5}'
    assert parse_delete_options(body, {}).grace_period_seconds == 5
    with pytest.raises(BadRequestError, match="gracePeriodSeconds"):
        parse_delete_options(b"", {"gracePeriodSeconds": "soon"})
