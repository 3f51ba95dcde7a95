"""Faults break one thing each, say what they broke, and heal back to exactly what was there."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from simcluster import resources
from simcluster.clock import FakeClock
from simcluster.cluster import SimCluster
from simcluster.errors import NotFoundError
from simcluster.faults import BROKEN_PROXY_IMAGE, Faults
from simcluster.kubesystem import KUBE_PROXY_IMAGE
from simcluster.scenarios import build_cluster

OTHER_BROKEN_IMAGE = "registry.k8s.io/kube-proxy:v1.30.5"


@pytest.fixture
def cluster() -> SimCluster:
    return build_cluster(nodes=3, clock=FakeClock())


def _selector(cluster: SimCluster) -> Any:
    return cluster.store.get(resources.SERVICES, "shop", "web")["spec"]["selector"]


def _target_port(cluster: SimCluster) -> Any:
    return cluster.store.get(resources.SERVICES, "shop", "checkout")["spec"]["ports"][0][
        "targetPort"
    ]


def _proxy_image(cluster: SimCluster) -> Any:
    ds = cluster.store.get(resources.DAEMONSETS, "kube-system", "kube-proxy")
    return ds["spec"]["template"]["spec"]["containers"][0]["image"]


def _proxy_health(cluster: SimCluster) -> Any:
    health = cluster.health
    stale = sorted(
        n for n in ("node-1", "node-2", "node-3") if cluster.kube_proxies.stale_rules(n) is not None
    )
    return sorted(health.kube_proxy_down_nodes), len(health.kube_proxy_wedged_pods), stale


def _unready(cluster: SimCluster) -> Any:
    return [
        (namespace, selector.matches({"app": "web"}))
        for namespace, selector in cluster.health.unready
    ]


def _api_faults(cluster: SimCluster) -> Any:
    faults = cluster.api_faults
    return faults.throttle_rate, faults.error_rate, faults.latency_seconds


@dataclass(frozen=True)
class Case:
    """One injector called one way: what it reports, and what it changes until healed."""

    name: str
    how: str
    inject: Callable[[Faults], dict[str, Any]]
    details: dict[str, Any]
    probe: Callable[[SimCluster], Any]
    broken: Any
    healthy: Any

    def __str__(self) -> str:
        return f"{self.name} {self.how}"


CASES = [
    Case(
        "kube-proxy-down",
        "by default",
        lambda f: f.kube_proxy_down(),
        {"nodes": ["node-2", "node-3"], "persistent": False},
        _proxy_health,
        ([], 2, ["node-2", "node-3"]),
        ([], 0, []),
    ),
    Case(
        "kube-proxy-down",
        "persistently on node-1",
        lambda f: f.kube_proxy_down(["node-1"], persistent=True),
        {"nodes": ["node-1"], "persistent": True},
        _proxy_health,
        (["node-1"], 0, ["node-1"]),
        ([], 0, []),
    ),
    Case(
        "bad-kube-proxy-rollout",
        "by default",
        lambda f: f.bad_kube_proxy_rollout(),
        {
            "image": BROKEN_PROXY_IMAGE,
            "previous_image": KUBE_PROXY_IMAGE,
            "crashing_images_added": [],
        },
        _proxy_image,
        BROKEN_PROXY_IMAGE,
        KUBE_PROXY_IMAGE,
    ),
    Case(
        "selector-mismatch",
        "by default",
        lambda f: f.selector_mismatch(),
        {
            "namespace": "shop",
            "service": "web",
            "selector": {"app": "web-v2"},
            "original": {"app": "web"},
        },
        _selector,
        {"app": "web-v2"},
        {"app": "web"},
    ),
    Case(
        "selector-mismatch",
        "to a canary selector",
        lambda f: f.selector_mismatch(selector={"app": "web", "track": "canary"}),
        {
            "namespace": "shop",
            "service": "web",
            "selector": {"app": "web", "track": "canary"},
            "original": {"app": "web"},
        },
        _selector,
        {"app": "web", "track": "canary"},
        {"app": "web"},
    ),
    Case(
        "wrong-target-port",
        "by default",
        lambda f: f.wrong_target_port(),
        {"namespace": "shop", "service": "checkout", "target_port": 8081, "original": "http"},
        _target_port,
        8081,
        "http",
    ),
    Case(
        "wrong-target-port",
        "to a named port",
        lambda f: f.wrong_target_port(target_port="metrics"),
        {"namespace": "shop", "service": "checkout", "target_port": "metrics", "original": "http"},
        _target_port,
        "metrics",
        "http",
    ),
    Case(
        "app-pods-not-ready",
        "for app=web",
        lambda f: f.app_pods_not_ready(selector="app=web"),
        {"namespace": "shop", "selector": "app=web"},
        _unready,
        [("shop", True)],
        [],
    ),
    Case(
        "api-flaky",
        "by default",
        lambda f: f.api_flaky(),
        {"throttle_rate": 0.2, "error_rate": 0.1, "latency_seconds": 0.0},
        _api_faults,
        (0.2, 0.1, 0.0),
        (0.0, 0.0, 0.0),
    ),
    Case(
        "api-flaky",
        "with errors and latency",
        lambda f: f.api_flaky(throttle_rate=0, error_rate=1, latency_seconds=0.5),
        {"throttle_rate": 0, "error_rate": 1, "latency_seconds": 0.5},
        _api_faults,
        (0, 1, 0.5),
        (0.0, 0.0, 0.0),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_an_injected_fault_reports_what_it_broke_and_is_active(
    cluster: SimCluster, case: Case
) -> None:
    assert case.inject(cluster.faults) == case.details
    assert case.probe(cluster) == case.broken
    assert cluster.faults.active() == {case.name: case.details}


@pytest.mark.parametrize("case", CASES, ids=str)
def test_healing_a_fault_restores_what_it_broke(cluster: SimCluster, case: Case) -> None:
    case.inject(cluster.faults)
    assert cluster.faults.heal(case.name) is True
    assert case.probe(cluster) == case.healthy
    assert cluster.faults.active() == {}
    assert cluster.faults.heal(case.name) is False


@pytest.mark.parametrize("case", CASES, ids=str)
def test_injecting_a_fault_twice_keeps_one_in_force_and_healing_it_restores_health(
    cluster: SimCluster, case: Case
) -> None:
    case.inject(cluster.faults)
    assert case.inject(cluster.faults) == case.details
    assert case.probe(cluster) == case.broken
    cluster.faults.heal(case.name)
    assert case.probe(cluster) == case.healthy


def test_a_second_injection_remembers_the_healthy_state_not_the_first_fault(
    cluster: SimCluster,
) -> None:
    cluster.faults.selector_mismatch(selector={"app": "first"})
    details = cluster.faults.selector_mismatch(selector={"app": "second"})
    assert details["original"] == {"app": "web"}
    cluster.faults.heal("selector-mismatch")
    assert _selector(cluster) == {"app": "web"}


def test_heal_all_heals_every_fault_and_names_them(cluster: SimCluster) -> None:
    cluster.faults.wrong_target_port()
    cluster.faults.api_flaky()
    cluster.faults.kube_proxy_down(["node-3"])
    assert sorted(cluster.faults.heal_all()) == [
        "api-flaky",
        "kube-proxy-down",
        "wrong-target-port",
    ]
    assert cluster.faults.active() == {}
    assert (_target_port(cluster), _api_faults(cluster)) == ("http", (0.0, 0.0, 0.0))
    assert cluster.faults.heal_all() == []


def test_a_fault_on_a_missing_service_raises_and_leaves_nothing_active(
    cluster: SimCluster,
) -> None:
    with pytest.raises(NotFoundError):
        cluster.faults.selector_mismatch(service="nope")
    with pytest.raises(NotFoundError):
        cluster.faults.wrong_target_port(namespace="nowhere")
    assert cluster.faults.active() == {}


def test_the_active_faults_are_a_copy(cluster: SimCluster) -> None:
    cluster.faults.api_flaky()
    cluster.faults.active()["api-flaky"]["error_rate"] = 1.0
    assert cluster.faults.active()["api-flaky"]["error_rate"] == 0.1


@pytest.mark.parametrize(
    ("nodes", "chosen"),
    [
        (1, ["node-1"]),
        (2, ["node-1", "node-2"]),
        (3, ["node-2", "node-3"]),
        (10, ["node-2", "node-3"]),
    ],
)
def test_kube_proxy_down_picks_two_nodes_past_the_first_when_it_can(
    nodes: int, chosen: list[str]
) -> None:
    cluster = build_cluster(nodes=nodes, clock=FakeClock())
    assert cluster.faults.kube_proxy_down()["nodes"] == chosen


def test_kube_proxy_down_crash_loops_the_chosen_nodes_proxies_until_healed(
    cluster: SimCluster,
) -> None:
    def waiting() -> dict[str, str | None]:
        return {
            pod["spec"]["nodeName"]: (
                pod["status"]["containerStatuses"][0]["state"].get("waiting") or {}
            ).get("reason")
            for pod in cluster.kube_proxies.pods(["node-1", "node-2", "node-3"])
        }

    cluster.faults.kube_proxy_down(["node-2"])
    cluster.settle(timeout=1)
    assert waiting() == {"node-1": None, "node-2": "CrashLoopBackOff", "node-3": None}
    cluster.faults.heal("kube-proxy-down")
    cluster.settle(timeout=1)
    assert set(waiting().values()) == {None}


def test_a_second_bad_rollout_rolls_on_from_the_broken_image_without_restoring_the_healthy_one(
    cluster: SimCluster,
) -> None:
    images: list[str] = []

    def template_images(event: Any) -> None:
        if event.resource is resources.DAEMONSETS and event.type == "MODIFIED":
            images.append(_proxy_image(cluster))

    cluster.faults.bad_kube_proxy_rollout()
    with cluster.store.lock:
        cluster.store.listen(template_images)
    details = cluster.faults.bad_kube_proxy_rollout(image=OTHER_BROKEN_IMAGE)

    assert details["previous_image"] == KUBE_PROXY_IMAGE
    assert KUBE_PROXY_IMAGE not in images
    assert _proxy_image(cluster) == OTHER_BROKEN_IMAGE
    cluster.faults.heal("bad-kube-proxy-rollout")
    assert _proxy_image(cluster) == KUBE_PROXY_IMAGE


def test_healing_a_bad_rollout_takes_the_images_it_made_crash_off_the_crashing_list(
    cluster: SimCluster,
) -> None:
    cluster.faults.bad_kube_proxy_rollout(image=OTHER_BROKEN_IMAGE)
    assert OTHER_BROKEN_IMAGE in cluster.health.crashing_images

    cluster.faults.heal("bad-kube-proxy-rollout")

    assert OTHER_BROKEN_IMAGE not in cluster.health.crashing_images
    assert BROKEN_PROXY_IMAGE in cluster.health.crashing_images  # crashed before the fault
