"""The three changing flows, each over a cluster broken the way it mends, and its expected end."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from bench.faults.changes import (
    CONNTRACK_DELETE,
    DELETE_POD,
    WRITE_DAEMONSET,
    WRITE_SERVICE,
    Change,
)
from flows.checklist.flow import DEPLOYMENT_NAME as CHECKLIST_DEPLOYMENT
from flows.checklist.flow import FLOW_NAME as CHECKLIST_FLOW
from flows.conntrack.flow import DEPLOYMENT_NAME as CONNTRACK_DEPLOYMENT
from flows.conntrack.flow import FLOW_NAME as CONNTRACK_FLOW
from flows.rollback.flow import DEPLOYMENT_NAME as ROLLBACK_DEPLOYMENT
from flows.rollback.flow import FLOW_NAME as ROLLBACK_FLOW
from simcluster import resources
from simcluster.cluster import SimCluster
from simcluster.manifests import service
from simcluster.rbac import RbacPolicy
from simcluster.scenarios import build_cluster
from simcluster.server import DEPLOY_RBAC_DIR
from simcluster.settings import SimSettings
from tests.e2e.storm import service_down_labels

#: Pods take a couple of seconds to be replaced and Ready: a kube-proxy restart wave and a
#: rollout last long enough to inject a fault between their steps.
SLOW_PODS = SimSettings(
    pod_start_delay=1.0, pod_ready_delay=1.0, crash_backoff_seconds=300, probe_period_seconds=300
)
FAST_PODS = SimSettings(
    pod_start_delay=0.05, pod_ready_delay=0.05, crash_backoff_seconds=300, probe_period_seconds=300
)
NODES = 5
WEDGED = ["node-2", "node-4"]
HTTP_PORTS = [{"name": "http", "port": 80, "protocol": "TCP", "targetPort": "http"}]
MISMATCHED = "fault-web"


def _enforced(cluster: SimCluster) -> SimCluster:
    cluster.rbac = RbacPolicy.from_directory(DEPLOY_RBAC_DIR)
    return cluster


def kube_proxy_wedged() -> SimCluster:
    """kube-proxy wedged in its pod on two of five nodes: a restart of each cures it."""
    cluster = build_cluster(nodes=NODES, settings=SLOW_PODS)
    cluster.faults.kube_proxy_down(list(WEDGED))
    cluster.settle(timeout=5.0)
    return _enforced(cluster)


def bad_rollout() -> SimCluster:
    """A crashing kube-proxy image rolled out; the rollout stalls on its first pod."""
    cluster = build_cluster(nodes=NODES, scenario="bad-kube-proxy-rollout", settings=SLOW_PODS)
    cluster.settle(timeout=10.0)
    return _enforced(cluster)


def stale_dns_entries() -> SimCluster:
    """A CoreDNS pod gone; every node keeps UDP conntrack entries its clients sent to it."""
    cluster = build_cluster(nodes=NODES, settings=FAST_PODS)
    cluster.settle(timeout=5.0)
    for index in range(1, NODES + 1):
        cluster.conntrack.flows(f"node-{index}")  # the tables exist before, as on real nodes
    pods = cluster.store.list_objects(resources.PODS, namespace="kube-system")
    dns = next(p for p in pods if p["metadata"].get("labels", {}).get("k8s-app") == "kube-dns")
    cluster.store.delete(resources.PODS, "kube-system", dns["metadata"]["name"])
    cluster.settle(timeout=5.0)
    return _enforced(cluster)


def mismatched_selector(names: tuple[str, ...] = (MISMATCHED,)) -> Callable[[], SimCluster]:
    """Services in shop whose selector is one label value off their pods' (app=web-v2)."""

    def build() -> SimCluster:
        cluster = build_cluster(nodes=3, settings=FAST_PODS)
        for name in names:
            cluster.create(service("shop", name, ports=HTTP_PORTS, selector={"app": "web-v2"}))
        cluster.settle(timeout=5.0)
        return _enforced(cluster)

    return build


def healthy_services(names: tuple[str, ...]) -> Callable[[], SimCluster]:
    """Healthy Services in shop (their alerts' checklists find nothing to do)."""

    def build() -> SimCluster:
        cluster = build_cluster(nodes=3, settings=FAST_PODS)
        for name in names:
            cluster.create(service("shop", name, ports=HTTP_PORTS, selector={"app": "web"}))
        cluster.settle(timeout=5.0)
        return _enforced(cluster)

    return build


def _acting(action: str, namespace: str | None = None) -> Callable[[Change], bool]:
    def acts(change: Change) -> bool:
        return change.action == action and (
            namespace is None or change.target.startswith(f"{namespace}/")
        )

    return acts


@dataclass(frozen=True)
class FlowScenario:
    """One changing flow over a cluster broken the way it mends.

    Attributes:
        flow: The flow's name.
        deployment: Its ``flow/deployment`` name.
        expected: The named state a run that mended it ends in.
        build: The broken cluster (not yet served).
        acts: Whether a change is the flow's mending action (the first one is the injection
            point of faults "between two steps").
        parameters: A run's parameters when started by hand (``auto_approve`` is the row's).
        alert: The labels of the alert that starts it, when an alert does.
    """

    flow: str
    deployment: str
    expected: str
    build: Callable[[], SimCluster]
    acts: Callable[[Change], bool]
    parameters: Mapping[str, Any] = field(default_factory=dict)
    alert: Mapping[str, str] | None = None


#: The checklist, cluster-wide, restarting kube-proxy on the two wedged nodes one at a time.
KUBE_PROXY_WAVE = FlowScenario(
    flow=CHECKLIST_FLOW,
    deployment=f"{CHECKLIST_FLOW}/{CHECKLIST_DEPLOYMENT}",
    expected="Recovered",
    build=kube_proxy_wedged,
    acts=_acting(DELETE_POD, "kube-system"),
    parameters={"scope": "cluster", "kube_proxy_restart_budget_fraction": 0.5},
)
#: The checklist started by a ServiceDown alert, fixing the Service's selector.
SERVICE_SELECTOR = FlowScenario(
    flow=CHECKLIST_FLOW,
    deployment=f"{CHECKLIST_FLOW}/{CHECKLIST_DEPLOYMENT}",
    expected="Recovered",
    build=mismatched_selector(),
    acts=_acting(WRITE_SERVICE, "shop"),
    alert=service_down_labels("shop", MISMATCHED),
)
#: The rollback of the bad kube-proxy rollout, watched to the end.
ROLLBACK = FlowScenario(
    flow=ROLLBACK_FLOW,
    deployment=f"{ROLLBACK_FLOW}/{ROLLBACK_DEPLOYMENT}",
    expected="RolledBack",
    build=bad_rollout,
    acts=_acting(WRITE_DAEMONSET, "kube-system"),
)
#: The conntrack cleanup of the gone CoreDNS pod's entries, node by node.
CONNTRACK = FlowScenario(
    flow=CONNTRACK_FLOW,
    deployment=f"{CONNTRACK_FLOW}/{CONNTRACK_DEPLOYMENT}",
    expected="Cleaned",
    build=stale_dns_entries,
    acts=_acting(CONNTRACK_DELETE),
    parameters={"namespace": "kube-system", "service": "kube-dns"},
)
