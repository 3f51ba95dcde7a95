"""Refusals and faults from the simulated cluster arrive as the adapter's own errors."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from integrations.kubernetes import Forbidden, Kube, RbacRule, TransientKubeError
from simcluster.cluster import SimCluster
from simcluster.rbac import RbacPolicy
from simcluster.server import SimServer

ENGINE_USER = "system:serviceaccount:service-runbooks:service-runbooks"
RBAC_MANIFESTS = Path(__file__).resolve().parents[3] / "deploy" / "rbac"


@pytest.fixture
def rbac_enforced(sim: SimServer) -> Iterator[SimServer]:
    """The simulated server enforcing the engine's RBAC from deploy/rbac."""
    cluster = sim.cluster
    if cluster.rbac is not None:
        yield sim
        return
    assert isinstance(cluster, SimCluster)
    cluster.rbac = RbacPolicy.from_directory(RBAC_MANIFESTS)
    try:
        yield sim
    finally:
        cluster.rbac = None


@pytest.fixture
def faults(sim: SimServer) -> Iterator[SimServer]:
    """The simulated server, its fault injection restored after the test."""
    api_faults = sim.cluster.api_faults
    seed, retry_after = api_faults.seed, api_faults.retry_after_seconds
    yield sim
    api_faults.clear()
    api_faults.seed, api_faults.retry_after_seconds = seed, retry_after


@pytest.mark.usefixtures("rbac_enforced")
def test_engine_refused_by_rbac_is_told_which_rule_to_add(engine_kube: Kube) -> None:
    with pytest.raises(Forbidden) as caught:
        engine_kube.get_config_map("coredns", "kube-system")

    assert caught.value.user == ENGINE_USER
    assert caught.value.rule == RbacRule("get", "configmaps", None, "", "kube-system")
    assert str(caught.value).startswith(
        'RBAC refused: add rule verbs=[get] apiGroups=[""] resources=[configmaps]'
        " in namespace kube-system to the engine's Role"
    )


@pytest.mark.usefixtures("rbac_enforced")
def test_engine_refused_exec_outside_kube_system_is_told_which_rule_to_add(
    engine_kube: Kube,
) -> None:
    pod = engine_kube.list_pods("shop")[0]

    with pytest.raises(Forbidden) as caught:
        engine_kube.exec_in_pod(pod.meta.name, "shop", ["conntrack", "-L"])

    assert caught.value.rule == RbacRule("create", "pods", "exec", "", "shop")


@pytest.mark.usefixtures("rbac_enforced")
def test_engine_may_do_what_its_role_grants(engine_kube: Kube) -> None:
    assert engine_kube.get_config_map("kube-proxy", "kube-system").meta.name == "kube-proxy"
    assert engine_kube.list_pods("kube-system", label_selector={"k8s-app": "kube-proxy"})


def test_a_throttled_request_is_retried_after_the_servers_delay(
    faults: SimServer, admin_kube: Kube
) -> None:
    faults.cluster.api_faults.retry_after_seconds = 0
    faults.cluster.api_faults.resources = frozenset({"nodes"})
    faults.cluster.api_faults.seed = 1  # first draw 0.13 (throttled), second 0.85 (served)
    faults.cluster.api_faults.throttle_rate = 0.5
    faults.cluster.requests.reset()

    nodes = admin_kube.list_nodes()

    assert nodes
    assert faults.cluster.requests.total(verb="list", resource="nodes") == 2


def test_persistent_server_errors_give_up_after_the_policy_attempts(
    faults: SimServer, admin_kube: Kube
) -> None:
    faults.cluster.api_faults.resources = frozenset({"nodes"})
    faults.cluster.api_faults.error_rate = 1.0
    faults.cluster.requests.reset()

    with pytest.raises(TransientKubeError) as caught:
        admin_kube.list_nodes()

    assert caught.value.status == 500
    assert faults.cluster.requests.total(verb="list", resource="nodes") == 3


def test_persistent_throttling_surfaces_as_transient_with_the_delay(
    faults: SimServer, admin_kube: Kube
) -> None:
    faults.cluster.api_faults.retry_after_seconds = 0
    faults.cluster.api_faults.resources = frozenset({"pods"})
    faults.cluster.api_faults.throttle_rate = 1.0

    with pytest.raises(TransientKubeError) as caught:
        admin_kube.list_pods("kube-system")

    assert caught.value.status == 429
    assert caught.value.retry_after == 0.0
