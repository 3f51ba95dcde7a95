"""The exporters a real cluster runs, over the simulated cluster's state."""

from __future__ import annotations

from typing import Any

from simcluster import resources
from simcluster.clock import Clock
from simcluster.conntrack import ConntrackTables
from simcluster.controllers.context import node_ip
from simcluster.kubeproxy import KubeProxies
from simcluster.metrics.kube_proxy import kube_proxy_metrics
from simcluster.metrics.kube_state import kube_state_metrics
from simcluster.metrics.node_exporter import node_exporter_metrics
from simcluster.metrics.proxy_syncs import ProxySyncs
from simcluster.metrics.targets import (
    KUBE_PROXY,
    NODE_EXPORTER,
    Target,
    kube_state_metrics_target,
    node_target,
)
from simcluster.store import Store

Obj = dict[str, Any]


class Exporters:
    """kube-state-metrics, every node's kube-proxy and node-exporter, and their targets.

    Args:
        store: The objects kube-state-metrics reports, the nodes, the kube-proxy pods.
        kube_proxies: The nodes' kube-proxy rules and configuration.
        conntrack: The nodes' conntrack tables.
        clock: The time kube-proxy syncs at.
    """

    def __init__(
        self,
        store: Store,
        *,
        kube_proxies: KubeProxies,
        conntrack: ConntrackTables,
        clock: Clock,
    ) -> None:
        self._store = store
        self._kube_proxies = kube_proxies
        self._conntrack = conntrack
        self.syncs = ProxySyncs(store, kube_proxies=kube_proxies, clock=clock)

    def kube_state_metrics(self) -> str:
        """kube-state-metrics' exposition now."""
        return kube_state_metrics(self._store)

    def kube_proxy(self, node: str) -> str | None:
        """The node's kube-proxy's exposition; None while it is not running (nothing listens).

        Raises:
            NotFoundError: no such node.
        """
        self._node(node)
        process = self.syncs.process(node)
        if process is None:
            return None
        ipvs = self._kube_proxies.mode() == "ipvs"
        rules = None if ipvs else self._kube_proxies.rules(node)
        return kube_proxy_metrics(process, iptables_rules=rules)

    def node_exporter(self, node: str) -> str:
        """The node's node-exporter's exposition.

        Raises:
            NotFoundError: no such node.
        """
        self._node(node)
        return node_exporter_metrics(
            entries=self._conntrack.count(node), limit=self._conntrack.limit(node)
        )

    def targets(self) -> list[Target]:
        """Every exporter to scrape: kube-state-metrics, then each node's.

        A node's kube-proxy is listed while it has a kube-proxy pod, crash-looping or not, as
        pod discovery lists it; node-exporter for every node.
        """
        nodes = sorted(
            self._store.list_objects(resources.NODES),
            key=lambda n: (len(n["metadata"]["name"]), n["metadata"]["name"]),
        )
        names = [n["metadata"]["name"] for n in nodes]
        with_proxy = {p["spec"].get("nodeName") for p in self._kube_proxies.pods(names)}
        targets = [kube_state_metrics_target()]
        for node in nodes:
            name, ip = node["metadata"]["name"], node_ip(node)
            if name in with_proxy:
                targets.append(node_target(KUBE_PROXY, node=name, node_ip=ip))
            targets.append(node_target(NODE_EXPORTER, node=name, node_ip=ip))
        return targets

    def _node(self, name: str) -> Obj:
        return self._store.get(resources.NODES, None, name)
