"""Seeded clusters: a healthy baseline plus named incident scenarios."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from simcluster import kubesystem, manifests
from simcluster.clock import Clock
from simcluster.cluster import SimCluster
from simcluster.objects import format_time
from simcluster.settings import SimSettings

Obj = dict[str, Any]


@dataclass(frozen=True)
class Scenario:
    """A named incident: what it shows and how it breaks a healthy cluster."""

    description: str
    apply: Callable[[SimCluster], Any]


def _none(cluster: SimCluster) -> None:
    del cluster


SCENARIOS: dict[str, Scenario] = {
    "healthy": Scenario(
        "Everything works: kube-proxy on every node, shop Services with ready endpoints.", _none
    ),
    "kube-proxy-down": Scenario(
        "kube-proxy is wedged in its pod on two nodes (lost its watch / xtables lock contention): "
        "it crash-loops with iptables-restore failures and their rules go stale; restarting the "
        "pod cures it.",
        lambda c: c.faults.kube_proxy_down(),
    ),
    "kube-proxy-down-persistent": Scenario(
        "A node-level problem on two nodes (a broken iptables binary or kernel module): kube-proxy "
        "crash-loops there, rules go stale, and restarted pods fail the same way.",
        lambda c: c.faults.kube_proxy_down(persistent=True),
    ),
    "bad-kube-proxy-rollout": Scenario(
        "A broken kube-proxy image was rolled out; the rolling update stalls on a crashing pod.",
        lambda c: c.faults.bad_kube_proxy_rollout(),
    ),
    "selector-mismatch": Scenario(
        "Service shop/web selects app=web-v2, which no pod has: no endpoints.",
        lambda c: c.faults.selector_mismatch(),
    ),
    "wrong-target-port": Scenario(
        "Service shop/checkout targets port 8081, which its pods do not listen on.",
        lambda c: c.faults.wrong_target_port(),
    ),
    "app-pods-not-ready": Scenario(
        "shop/checkout pods fail their readiness probe: Running, not Ready, no ready endpoints.",
        lambda c: c.faults.app_pods_not_ready(),
    ),
    "api-flaky": Scenario(
        "The API answers 20% of requests 429 and 10% 500.",
        lambda c: c.faults.api_flaky(),
    ),
}


def seed_objects(nodes: int, *, created: str) -> list[Obj]:
    """Every object of a fresh cluster with ``nodes`` nodes, in creation order."""
    objects: list[Obj] = [manifests.namespace(n) for n in manifests.NAMESPACES]
    objects += [manifests.node(i, created=created) for i in range(1, nodes + 1)]
    return objects + kubesystem.system_objects() + manifests.shop_objects()


def build_cluster(
    *,
    nodes: int = 5,
    scenario: str = "healthy",
    settings: SimSettings | None = None,
    clock: Clock | None = None,
) -> SimCluster:
    """A seeded, converged cluster with the scenario's fault applied (controllers not started).

    Args:
        nodes: How many worker nodes (``node-1`` ...).
        scenario: A key of `SCENARIOS`.
        settings: Simulation settings.
        clock: Time source (a `FakeClock` makes this instant).

    Raises:
        KeyError: unknown scenario.
    """
    chosen = SCENARIOS[scenario]
    cluster = SimCluster(settings=settings, clock=clock)
    for obj in seed_objects(nodes, created=format_time(cluster.clock.now())):
        cluster.create(obj)
    cluster.settle(timeout=2.0)
    chosen.apply(cluster)
    cluster.settle(timeout=2.0)
    return cluster
