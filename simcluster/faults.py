"""Fault injection: break kube-proxy, Services, app pods or the API in realistic ways; heal them."""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import yaml

from simcluster import resources
from simcluster.controllers.context import key_of
from simcluster.errors import NotFoundError
from simcluster.proxyrules import ServicePort, service_ports
from simcluster.selectors import parse_label_selector, selector_from_match_labels

if TYPE_CHECKING:
    from simcluster.cluster import SimCluster

Obj = dict[str, Any]
KUBE_PROXY = ("kube-system", "kube-proxy")
BROKEN_PROXY_IMAGE = "registry.k8s.io/kube-proxy:v1.30.99-broken"


@dataclass
class _Active:
    details: dict[str, Any]
    undo: Callable[[], None] = field(repr=False)


class Faults:
    """The fault-injection API of a `SimCluster` (``cluster.faults``).

    Each injector returns the details of what it broke; `heal` undoes one fault, `heal_all`
    every fault.
    """

    def __init__(self, cluster: SimCluster) -> None:
        self._cluster = cluster
        self._lock = threading.Lock()
        self._active: dict[str, _Active] = {}
        self._frozen: dict[str, list[ServicePort]] = {}
        self._wedged: dict[str, frozenset[str]] = {}

    def active(self) -> dict[str, dict[str, Any]]:
        """The faults in force, by name, with their details."""
        with self._lock:
            return {name: dict(fault.details) for name, fault in self._active.items()}

    def heal(self, name: str) -> bool:
        """Undo one fault; False when it was not active."""
        with self._lock:
            fault = self._active.pop(name, None)
        if fault is None:
            return False
        fault.undo()
        return True

    def heal_all(self) -> list[str]:
        """Undo every fault; returns their names."""
        names = list(self.active())
        for name in names:
            self.heal(name)
        return names

    def _activate(
        self, name: str, details: dict[str, Any], undo: Callable[[], None]
    ) -> dict[str, Any]:
        self.heal(name)
        with self._lock:
            self._active[name] = _Active(details, undo)
        return details

    # -- kube-proxy ---------------------------------------------------------------------------

    def kube_proxy_down(
        self, nodes: list[str] | None = None, *, persistent: bool = False
    ) -> dict[str, Any]:
        """Make kube-proxy fail on ``nodes`` (default two): iptables-restore errors, crash loop.

        The nodes' rules stay as they were (stale) while it is down.

        Args:
            nodes: The nodes whose kube-proxy fails.
            persistent: False (the default): kube-proxy is wedged in its current pod (it lost
                its watch, or keeps losing the xtables lock); deleting the pod cures it, the
                replacement runs and resyncs the node's rules. True: a node-level problem (a
                broken iptables binary or kernel module) that every replacement pod hits too.
        """
        chosen = nodes or self._default_nodes(2)
        snapshot = self._current_rules()
        wedged = {
            node: frozenset(p["metadata"]["uid"] for p in self._proxy_pods([node]))
            for node in ([] if persistent else chosen)
        }
        down, uids = set(chosen) if persistent else set(), set().union(*wedged.values())
        health = self._cluster.health
        with health.lock:
            health.kube_proxy_down_nodes.update(down)
            health.kube_proxy_wedged_pods.update(uids)
        with self._lock:
            for node in chosen:
                self._frozen.setdefault(node, snapshot)
            self._wedged.update(wedged)
        self._wake_proxies(chosen)

        def undo() -> None:
            with health.lock:
                health.kube_proxy_down_nodes.difference_update(down)
                health.kube_proxy_wedged_pods.difference_update(uids)
            with self._lock:
                for node in chosen:
                    self._frozen.pop(node, None)
                    self._wedged.pop(node, None)
            self._wake_proxies(chosen)

        details = {"nodes": chosen, "persistent": persistent}
        return self._activate("kube-proxy-down", details, undo)

    def bad_kube_proxy_rollout(self, image: str = BROKEN_PROXY_IMAGE) -> dict[str, Any]:
        """Roll out a kube-proxy image that crashes; the DaemonSet's rolling update stalls on it."""
        health = self._cluster.health
        with health.lock:
            health.crashing_images.add(image)
        previous = self._set_proxy_image(image)

        def undo() -> None:
            self._set_proxy_image(previous)

        return self._activate(
            "bad-kube-proxy-rollout", {"image": image, "previous_image": previous}, undo
        )

    def frozen_rules(self, node: str) -> list[ServicePort] | None:
        """The stale rules of a node whose kube-proxy is down (None: it syncs normally).

        A wedged kube-proxy's rules resync once a replacement pod runs on the node.
        """
        with self._lock:
            frozen, wedged = self._frozen.get(node), self._wedged.get(node)
        if frozen is None or wedged is None:
            return frozen
        return None if self._replacement_running(node, wedged) else frozen

    def proxy_config(self) -> str:
        """The kube-proxy ``config.conf`` from its ConfigMap ('' when absent)."""
        try:
            config_map = self._cluster.store.get(resources.CONFIGMAPS, *KUBE_PROXY)
        except NotFoundError:
            return ""
        return str((config_map.get("data") or {}).get("config.conf", ""))

    def proxy_mode(self) -> str:
        """kube-proxy's mode from its configuration (``iptables`` by default)."""
        loaded = yaml.safe_load(self.proxy_config() or "{}") or {}
        return str(loaded.get("mode") or "iptables")

    # -- Services and app pods ----------------------------------------------------------------

    def selector_mismatch(
        self, namespace: str = "shop", service: str = "web", selector: dict[str, str] | None = None
    ) -> dict[str, Any]:
        """Point a Service's selector at labels no pod has."""
        wanted = selector or {"app": f"{service}-v2"}
        original = self._edit_service(
            namespace, service, lambda spec: spec.update(selector=wanted)
        )["selector"]

        def undo() -> None:
            self._edit_service(namespace, service, lambda spec: spec.update(selector=original))

        details = {
            "namespace": namespace,
            "service": service,
            "selector": wanted,
            "original": original,
        }
        return self._activate("selector-mismatch", details, undo)

    def wrong_target_port(
        self, namespace: str = "shop", service: str = "checkout", target_port: int | str = 8081
    ) -> dict[str, Any]:
        """Send a Service's first port to a ``targetPort`` its pods do not listen on."""

        def point(spec: Obj) -> None:
            spec["ports"][0]["targetPort"] = target_port

        original = self._edit_service(namespace, service, point)["ports"][0].get("targetPort")

        def undo() -> None:
            self._edit_service(
                namespace, service, lambda spec: spec["ports"][0].update(targetPort=original)
            )

        details = {
            "namespace": namespace,
            "service": service,
            "target_port": target_port,
            "original": original,
        }
        return self._activate("wrong-target-port", details, undo)

    def app_pods_not_ready(
        self, namespace: str = "shop", selector: str = "app=checkout"
    ) -> dict[str, Any]:
        """Make matching pods fail their readiness probe (Running, not Ready)."""
        parsed = parse_label_selector(selector)
        health = self._cluster.health
        with health.lock:
            health.unready.append((namespace, parsed))
        self._wake_pods(namespace, selector)

        def undo() -> None:
            with health.lock:
                health.unready.remove((namespace, parsed))
            self._wake_pods(namespace, selector)

        return self._activate(
            "app-pods-not-ready", {"namespace": namespace, "selector": selector}, undo
        )

    def api_flaky(
        self, *, throttle_rate: float = 0.2, error_rate: float = 0.1, latency_seconds: float = 0.0
    ) -> dict[str, Any]:
        """Answer a fraction of API requests 429 or 500, optionally slowly."""
        faults = self._cluster.api_faults
        faults.throttle_rate, faults.error_rate, faults.latency_seconds = (
            throttle_rate,
            error_rate,
            latency_seconds,
        )
        details = {
            "throttle_rate": throttle_rate,
            "error_rate": error_rate,
            "latency_seconds": latency_seconds,
        }
        return self._activate("api-flaky", details, faults.clear)

    # -- helpers ------------------------------------------------------------------------------

    def _default_nodes(self, count: int) -> list[str]:
        names = [n["metadata"]["name"] for n in self._cluster.store.list_objects(resources.NODES)]
        names.sort(key=lambda n: (len(n), n))
        return names[1 : 1 + count] if len(names) > count else names[:count]

    def _current_rules(self) -> list[ServicePort]:
        store = self._cluster.store
        return service_ports(
            store.list_objects(resources.SERVICES), store.list_objects(resources.ENDPOINTSLICES)
        )

    def _proxy_pods(self, nodes: list[str]) -> list[Obj]:
        selector = selector_from_match_labels({"k8s-app": "kube-proxy"})
        pods = self._cluster.store.list_objects(
            resources.PODS, namespace="kube-system", label_selector=selector
        )
        return [p for p in pods if p["spec"].get("nodeName") in nodes]

    def _replacement_running(self, node: str, wedged: frozenset[str]) -> bool:
        for pod in self._proxy_pods([node]):
            statuses = (pod.get("status") or {}).get("containerStatuses") or []
            running = any("running" in (s.get("state") or {}) for s in statuses)
            if running and pod["metadata"]["uid"] not in wedged:
                return True
        return False

    def _wake_proxies(self, nodes: list[str]) -> None:
        for pod in self._proxy_pods(nodes):
            self._cluster.kubelet.wake(key_of(pod))

    def _wake_pods(self, namespace: str, selector: str) -> None:
        for pod in self._cluster.store.list_objects(
            resources.PODS, namespace=namespace, label_selector=parse_label_selector(selector)
        ):
            self._cluster.kubelet.wake(key_of(pod))

    def _set_proxy_image(self, image: str) -> str:
        previous: list[str] = []

        def mutate(ds: Obj) -> None:
            container = ds["spec"]["template"]["spec"]["containers"][0]
            previous.append(container["image"])
            container["image"] = image

        self._cluster.store.update(resources.DAEMONSETS, *KUBE_PROXY, mutate)
        return previous[0]

    def _edit_service(self, namespace: str, name: str, edit: Callable[[Obj], Any]) -> Obj:
        before: list[Obj] = []

        def mutate(service: Obj) -> None:
            before.append(copy.deepcopy(service["spec"]))
            edit(service["spec"])

        self._cluster.store.update(resources.SERVICES, namespace, name, mutate)
        return before[0]
