"""Fault injection: break kube-proxy, Services, app pods or the API in realistic ways; heal them."""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from simcluster import resources
from simcluster.api_faults import ApiFaults
from simcluster.conntrack import ConntrackTables
from simcluster.controllers.context import key_of
from simcluster.controllers.health import HealthRules
from simcluster.kubeproxy import KUBE_PROXY, KubeProxies
from simcluster.selectors import parse_label_selector
from simcluster.store import Store

Obj = dict[str, Any]
BROKEN_PROXY_IMAGE = "registry.k8s.io/kube-proxy:v1.30.99-broken"


@dataclass
class _Active:
    details: dict[str, Any]
    undo: Callable[[], None] = field(repr=False)


class Faults:
    """The fault-injection API of a simulated cluster (``cluster.faults``).

    Each injector returns the details of what it broke; `heal` undoes one fault, `heal_all`
    every fault. Injecting a fault that is in force heals it first (even when the new injection
    then fails), so a fault is in force once and healing it restores the cluster as it was
    before any injection; a bad rollout injected again rolls on from the broken image instead
    (see `bad_kube_proxy_rollout`).

    Args:
        store: The objects that faults edit (Services, the kube-proxy DaemonSet).
        health: The rules by which the kubelet crashes pods or fails their readiness.
        kube_proxies: Where nodes' kube-proxy rules go stale while kube-proxy is down.
        api_faults: The faults the API server injects into requests.
        wake: Makes the kubelet look at a pod again now (by ``namespace/name``).
        conntrack: The nodes' conntrack tables, which fill up.
    """

    def __init__(
        self,
        store: Store,
        *,
        health: HealthRules,
        kube_proxies: KubeProxies,
        api_faults: ApiFaults,
        wake: Callable[[str], None],
        conntrack: ConntrackTables,
    ) -> None:
        self._store = store
        self._conntrack = conntrack
        self._health = health
        self._kube_proxies = kube_proxies
        self._api_faults = api_faults
        self._wake = wake
        self._lock = threading.Lock()
        self._active: dict[str, _Active] = {}

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
        # Heal a previous injection first: each injector records what it finds as healthy.
        self.heal("kube-proxy-down")
        chosen = nodes or self._default_nodes(2)
        wedged = {
            node: frozenset(p["metadata"]["uid"] for p in self._kube_proxies.pods([node]))
            for node in ([] if persistent else chosen)
        }
        down, uids = set(chosen) if persistent else set(), set().union(*wedged.values())
        self._kube_proxies.freeze(chosen, wedged=wedged)
        health = self._health
        with health.lock:
            health.kube_proxy_down_nodes.update(down)
            health.kube_proxy_wedged_pods.update(uids)
        self._wake_proxies(chosen)

        def undo() -> None:
            with health.lock:
                health.kube_proxy_down_nodes.difference_update(down)
                health.kube_proxy_wedged_pods.difference_update(uids)
            self._kube_proxies.thaw(chosen)
            self._wake_proxies(chosen)

        details = {"nodes": chosen, "persistent": persistent}
        return self._activate("kube-proxy-down", details, undo)

    def kube_proxy_rules_stale(self, nodes: list[str] | None = None) -> dict[str, Any]:
        """Make every rule sync of kube-proxy on ``nodes`` (default one) fail; it keeps running.

        iptables-restore keeps failing (another agent holds the xtables lock, or rewrote a
        chain kube-proxy owns): the pod stays Running and Ready and answers on its metrics
        port, but its last successful sync stops advancing and the node's rules go stale.
        Restarting the pod does not cure it.
        """
        self.heal("kube-proxy-rules-stale")
        chosen = nodes or self._default_nodes(1)
        self._kube_proxies.freeze(chosen, wedged={})
        return self._activate(
            "kube-proxy-rules-stale", {"nodes": chosen}, lambda: self._kube_proxies.thaw(chosen)
        )

    def bad_kube_proxy_rollout(self, image: str = BROKEN_PROXY_IMAGE) -> dict[str, Any]:
        """Roll out a kube-proxy image that crashes; the DaemonSet's rolling update stalls on it.

        Injected again while in force, the new image rolls out over the broken one, as a second
        bad push would: the healthy image is never restored in between, and healing restores
        the one that ran before the first injection. Healing also takes the images the fault
        made crash off the crashing list (those that crashed before it stay).
        """
        name = "bad-kube-proxy-rollout"
        in_force = self.active().get(name)
        added = set(in_force["crashing_images_added"]) if in_force else set()
        health = self._health
        with health.lock:
            if image not in health.crashing_images:
                health.crashing_images.add(image)
                added.add(image)
        replaced = self._set_proxy_image(image)
        previous = str(in_force["previous_image"]) if in_force else replaced

        def undo() -> None:
            with health.lock:
                health.crashing_images.difference_update(added)
            self._set_proxy_image(previous)

        details = {
            "image": image,
            "previous_image": previous,
            "crashing_images_added": sorted(added),
        }
        return self._activate(name, details, undo)

    # -- Services and app pods ----------------------------------------------------------------

    def selector_mismatch(
        self, namespace: str = "shop", service: str = "web", selector: dict[str, str] | None = None
    ) -> dict[str, Any]:
        """Point a Service's selector at labels no pod has."""
        self.heal("selector-mismatch")
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
        self.heal("wrong-target-port")

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
        self.heal("app-pods-not-ready")
        parsed = parse_label_selector(selector)
        health = self._health
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
        self.heal("api-flaky")
        faults = self._api_faults
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

    # -- nodes --------------------------------------------------------------------------------

    def conntrack_table_full(
        self, nodes: list[str] | None = None, *, fraction: float = 0.95, limit: int = 16384
    ) -> dict[str, Any]:
        """Fill the conntrack tables of ``nodes`` (default one) to ``fraction`` of ``limit``.

        The node's ``nf_conntrack_max`` is lowered to ``limit`` (a node-tuning sysctl gone
        wrong; small, so that listing the table stays quick) and stale UDP entries to a gone
        DNS pod fill it. Conntrack cleanup deletes those; healing removes what is left of them
        and restores the limit.
        """
        if not 0 < fraction <= 1 or not isinstance(limit, int) or limit < 1:
            raise ValueError("fraction must be in (0, 1] and limit a positive integer")
        self.heal("conntrack-table-full")
        chosen = nodes or self._default_nodes(1)
        tables = self._conntrack
        previous = {node: tables.limit(node) for node in chosen}
        added = {}
        for node in chosen:
            tables.set_limit(node, limit)
            added[node] = tables.fill(node, int(limit * fraction) - tables.count(node))

        def undo() -> None:
            for node in chosen:
                tables.remove(node, added[node])
                tables.set_limit(node, previous[node])

        details = {
            "nodes": chosen,
            "limit": limit,
            "entries": {node: tables.count(node) for node in chosen},
        }
        return self._activate("conntrack-table-full", details, undo)

    # -- helpers ------------------------------------------------------------------------------

    def _default_nodes(self, count: int) -> list[str]:
        names = [n["metadata"]["name"] for n in self._store.list_objects(resources.NODES)]
        names.sort(key=lambda n: (len(n), n))
        return names[1 : 1 + count] if len(names) > count else names[:count]

    def _wake_proxies(self, nodes: list[str]) -> None:
        for pod in self._kube_proxies.pods(nodes):
            self._wake(key_of(pod))

    def _wake_pods(self, namespace: str, selector: str) -> None:
        for pod in self._store.list_objects(
            resources.PODS, namespace=namespace, label_selector=parse_label_selector(selector)
        ):
            self._wake(key_of(pod))

    def _set_proxy_image(self, image: str) -> str:
        previous: list[str] = []

        def mutate(ds: Obj) -> None:
            container = ds["spec"]["template"]["spec"]["containers"][0]
            previous.append(container["image"])
            container["image"] = image

        self._store.update(resources.DAEMONSETS, *KUBE_PROXY, mutate)
        return previous[0]

    def _edit_service(self, namespace: str, name: str, edit: Callable[[Obj], Any]) -> Obj:
        before: list[Obj] = []

        def mutate(service: Obj) -> None:
            before.append(copy.deepcopy(service["spec"]))
            edit(service["spec"])

        self._store.update(resources.SERVICES, namespace, name, mutate)
        return before[0]
