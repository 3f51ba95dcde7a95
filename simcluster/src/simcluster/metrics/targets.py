"""The scrape targets of the simulated exporters, as Prometheus' HTTP service discovery lists them.

Every exporter is served by the simulated cluster's one HTTP listener, so the targets share
one address and differ in ``__metrics_path__``; ``instance`` and ``node`` are set to what a
real cluster's relabeling gives (the node's address and exporter port, the node's name).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

PREFIX = "/simcluster/metrics"
KUBE_STATE_METRICS = "kube-state-metrics"
KUBE_PROXY = "kube-proxy"
NODE_EXPORTER = "node-exporter"
JOBS = (KUBE_STATE_METRICS, KUBE_PROXY, NODE_EXPORTER)
# The ports the real exporters listen on, which a real `instance` label carries.
_PORTS = {KUBE_PROXY: 10249, NODE_EXPORTER: 9100}


@dataclass(frozen=True)
class Target:
    """One exporter to scrape: its job, its labels and the path it is served at."""

    job: str
    instance: str
    path: str
    node: str | None = None


def kube_state_metrics_target() -> Target:
    """The one kube-state-metrics of the cluster."""
    return Target(
        KUBE_STATE_METRICS,
        "kube-state-metrics.kube-system.svc:8080",
        f"{PREFIX}/{KUBE_STATE_METRICS}",
    )


def node_target(job: str, *, node: str, node_ip: str) -> Target:
    """A per-node exporter (kube-proxy or node-exporter, both on the host network)."""
    return Target(job, f"{node_ip}:{_PORTS[job]}", f"{PREFIX}/{job}/{node}", node)


def http_sd(targets: list[Target], *, address: str, scheme: str) -> list[dict[str, Any]]:
    """The ``http_sd_configs`` document: one group per target, all at ``address``.

    Prometheus takes ``job``, ``__metrics_path__`` and ``__scheme__`` from a target's labels
    over its scrape configuration's own, so one scrape job discovers all three exporters.
    """
    groups = []
    for target in targets:
        labels = {
            "job": target.job,
            "instance": target.instance,
            "__metrics_path__": target.path,
            "__scheme__": scheme,
        }
        if target.node is not None:
            labels["node"] = target.node
        groups.append({"targets": [address], "labels": labels})
    return groups
