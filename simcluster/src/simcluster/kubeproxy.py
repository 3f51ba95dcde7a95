"""What kube-proxy has programmed on each node: the Services' rules, stale while it is down."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from typing import Any

import yaml

from simcluster import resources
from simcluster.errors import NotFoundError
from simcluster.proxyrules import ServicePort, service_ports
from simcluster.selectors import selector_from_match_labels
from simcluster.store import Store

Obj = dict[str, Any]
KUBE_PROXY = ("kube-system", "kube-proxy")


class KubeProxies:
    """Every node's kube-proxy as the node's tables see it: in sync, or frozen by a fault.

    Args:
        store: The objects whose Services and EndpointSlices a syncing kube-proxy programs.
    """

    def __init__(self, store: Store) -> None:
        self._store = store
        self._lock = threading.Lock()
        self._frozen: dict[str, list[ServicePort]] = {}
        self._wedged: dict[str, frozenset[str]] = {}

    def current_rules(self) -> list[ServicePort]:
        """The rules a kube-proxy in sync programs now."""
        return service_ports(
            self._store.list_objects(resources.SERVICES),
            self._store.list_objects(resources.ENDPOINTSLICES),
        )

    def rules(self, node: str) -> list[ServicePort]:
        """The rules on a node: stale ones while its kube-proxy is down, else the current ones."""
        stale = self.stale_rules(node)
        return stale if stale is not None else self.current_rules()

    def stale_rules(self, node: str) -> list[ServicePort] | None:
        """The stale rules of a node whose kube-proxy is down (None: it syncs normally).

        A wedged kube-proxy's rules resync once a replacement pod runs on the node.
        """
        with self._lock:
            frozen, wedged = self._frozen.get(node), self._wedged.get(node)
        if frozen is None or wedged is None:
            return frozen
        return None if self._replacement_running(node, wedged) else frozen

    def freeze(self, nodes: Iterable[str], *, wedged: Mapping[str, frozenset[str]]) -> None:
        """Keep the nodes' current rules as they are now (kube-proxy stopped syncing).

        Args:
            nodes: The nodes whose rules go stale (those already stale keep their snapshot).
            wedged: For nodes whose kube-proxy is stuck in its pod, the uids of those pods:
                the rules resync once another kube-proxy pod runs there.
        """
        snapshot = self.current_rules()
        with self._lock:
            for node in nodes:
                self._frozen.setdefault(node, snapshot)
            self._wedged.update(wedged)

    def thaw(self, nodes: Iterable[str]) -> None:
        """Let the nodes' kube-proxy sync their rules again."""
        with self._lock:
            for node in nodes:
                self._frozen.pop(node, None)
                self._wedged.pop(node, None)

    def pods(self, nodes: Iterable[str]) -> list[Obj]:
        """The kube-proxy pods on these nodes."""
        wanted = set(nodes)
        selector = selector_from_match_labels({"k8s-app": "kube-proxy"})
        pods = self._store.list_objects(
            resources.PODS, namespace="kube-system", label_selector=selector
        )
        return [p for p in pods if p["spec"].get("nodeName") in wanted]

    def config(self) -> str:
        """The kube-proxy ``config.conf`` from its ConfigMap ('' when absent)."""
        try:
            config_map = self._store.get(resources.CONFIGMAPS, *KUBE_PROXY)
        except NotFoundError:
            return ""
        return str((config_map.get("data") or {}).get("config.conf", ""))

    def mode(self) -> str:
        """kube-proxy's mode from its configuration (``iptables`` by default)."""
        loaded = yaml.safe_load(self.config() or "{}") or {}
        return str(loaded.get("mode") or "iptables")

    def _replacement_running(self, node: str, wedged: frozenset[str]) -> bool:
        for pod in self.pods([node]):
            statuses = (pod.get("status") or {}).get("containerStatuses") or []
            running = any("running" in (s.get("state") or {}) for s in statuses)
            if running and pod["metadata"]["uid"] not in wedged:
                return True
        return False
