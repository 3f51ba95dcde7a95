"""`SimCluster`: the store, admission and controllers of the simulated cluster, wired together."""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import orjson

from simcluster import resources
from simcluster.admission import Admission
from simcluster.allocation import PodAddresses, ServiceAllocations
from simcluster.api_faults import ApiFaults
from simcluster.clock import Clock, SystemClock
from simcluster.conntrack import ConntrackTables
from simcluster.controllers.context import Context, key_of
from simcluster.controllers.daemonset import DaemonSetController
from simcluster.controllers.deployment import DeploymentController
from simcluster.controllers.endpoints_controller import EndpointsController
from simcluster.controllers.events import EventRecorder
from simcluster.controllers.gc import GarbageCollector
from simcluster.controllers.health import HealthRules
from simcluster.controllers.kubelet import Kubelet
from simcluster.controllers.replicaset import ReplicaSetController
from simcluster.controllers.runtime import Runtime
from simcluster.controllers.scheduler import Scheduler
from simcluster.controllers.termination import delete_pod
from simcluster.counter import RequestCounter
from simcluster.errors import ApiError
from simcluster.faults import Faults
from simcluster.kubeproxy import KubeProxies
from simcluster.metrics import Exporters
from simcluster.podexec import PodExec
from simcluster.podlogs import PodLogs
from simcluster.rbac import RbacPolicy
from simcluster.resources import ResourceType
from simcluster.selectors import parse_field_selector
from simcluster.settings import SimSettings
from simcluster.store import Store, supports_field
from simcluster.watch import ChangeEvent

Obj = dict[str, Any]


class SimCluster:
    """A simulated Kubernetes cluster: objects, admission, controllers and fault injection.

    The parts are attributes, each built with only what it uses: ``admission`` admits writes,
    ``faults`` injects faults, ``pod_exec`` and ``pod_logs`` serve ``exec`` and logs,
    ``conntrack`` and ``kube_proxies`` hold the nodes' tables, ``metrics`` is what the
    cluster's exporters (kube-state-metrics, kube-proxy, node-exporter) serve.

    Args:
        store: The object store (a new empty one by default).
        rbac: The RBAC policy the HTTP layer enforces; None allows everything.
        settings: Delays, crashing images and limits.
        clock: The time source (a `FakeClock` makes tests instant; use it without `start`).
    """

    def __init__(
        self,
        *,
        store: Store | None = None,
        rbac: RbacPolicy | None = None,
        settings: SimSettings | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.settings = settings or SimSettings()
        self.clock: Clock = clock or SystemClock()
        self.store = store or Store(clock=self.clock.now)
        self.rbac = rbac
        self.api_faults = ApiFaults()
        self.requests = RequestCounter()
        self.rng = random.Random(self.settings.seed)
        self.allocations = ServiceAllocations(self.rng)
        self.admission = Admission(self.allocations)
        self.health = HealthRules(crashing_images=set(self.settings.crashing_images))
        self.runtime = Runtime(self.clock)
        self.ctx = Context(
            store=self.store,
            runtime=self.runtime,
            clock=self.clock,
            settings=self.settings,
            rng=self.rng,
            events=EventRecorder(self.store, self.clock, limit=self.settings.max_events),
            health=self.health,
            pod_addresses=PodAddresses(self._ips_on_node, per_node=self.settings.pods_per_node),
        )
        self.scheduler = Scheduler(self.ctx)
        self.kubelet = Kubelet(self.ctx)
        self.daemonsets = DaemonSetController(self.ctx)
        self.deployments = DeploymentController(self.ctx)
        self.replicasets = ReplicaSetController(self.ctx)
        self.endpoints = EndpointsController(self.ctx)
        self.gc = GarbageCollector(self.ctx)
        self.kube_proxies = KubeProxies(self.store)
        self.conntrack = ConntrackTables(self.store, service_selectors=self.endpoints.selectors_in)
        self.metrics = Exporters(
            self.store, kube_proxies=self.kube_proxies, conntrack=self.conntrack, clock=self.clock
        )
        self.faults = Faults(
            self.store,
            health=self.health,
            kube_proxies=self.kube_proxies,
            api_faults=self.api_faults,
            wake=self.kubelet.wake,
            conntrack=self.conntrack,
        )
        self.pod_exec = PodExec(
            self.store, conntrack=self.conntrack, kube_proxies=self.kube_proxies, clock=self.clock
        )
        self.pod_logs = PodLogs(self.store, health=self.health, clock=self.clock)
        self._paused = False
        with self.store.lock:
            self.store.listen(self._on_change)
            for service in self.store.list_objects(resources.SERVICES):
                self.allocations.sync(key_of(service), service)
        self.resync()

    # -- lifecycle ----------------------------------------------------------------------------

    def start(self) -> None:
        """Run the controllers on their background thread."""
        self.runtime.start()

    def stop(self) -> None:
        """Stop the controller thread."""
        self.runtime.stop()

    def settle(self, timeout: float = 5.0) -> None:
        """Block until the controllers are idle and no timer is due within ``timeout`` seconds."""
        self.runtime.settle(timeout)

    @contextmanager
    def paused(self) -> Iterator[None]:
        """Write objects without controller reactions (bulk seeding); resync afterwards."""
        self._paused = True
        try:
            yield
        finally:
            self._paused = False

    def resync(self) -> None:
        """Queue every workload, Service and pod once (after seeding or pausing)."""
        with self.store.lock:
            for rt, handler in (
                (resources.DAEMONSETS, self.daemonsets.reconcile),
                (resources.DEPLOYMENTS, self.deployments.reconcile),
                (resources.REPLICASETS, self.replicasets.reconcile),
                (resources.SERVICES, self.endpoints.reconcile),
            ):
                for obj in self.store.list_objects(rt):
                    self.runtime.enqueue(handler, key_of(obj))

    # -- writes -------------------------------------------------------------------------------

    def create(self, obj: Obj) -> Obj:
        """Admit and store a new object of any served kind (for seeding and tests).

        Raises:
            ApiError: invalid, already exists, or its namespace is missing.
        """
        rt = resources.resource_for_kind(obj["kind"])
        self.admission.admit(rt, obj, old=None)
        try:
            return self.store.create(rt, obj)
        except ApiError:
            meta = obj.get("metadata") or {}
            if rt is resources.SERVICES:
                owner = f"{meta.get('namespace') or 'default'}/{meta.get('name', '')}"
                existing = self.store.exists(
                    rt, meta.get("namespace") or "default", meta.get("name", "")
                )
                if not existing:
                    self.allocations.sync(owner, None)
            raise

    def delete(
        self,
        rt: ResourceType,
        namespace: str | None,
        name: str,
        *,
        propagation_policy: str | None = None,
        grace_period_seconds: int | None = None,
    ) -> Obj:
        """Delete an object; with ``Orphan`` its dependents stay (their ownerReferences go).

        A pod on a node is only marked Terminating (its kubelet removes it when the grace
        period ends); ``grace_period_seconds=0`` removes it at once.

        Args:
            rt: The object's type.
            namespace: Its namespace (None for cluster-scoped types).
            name: Its name.
            propagation_policy: Orphan, Background or Foreground (None: the default).
            grace_period_seconds: For pods, the grace period (None: the pod's own).

        Returns:
            The object as the delete left it.

        Raises:
            NotFoundError: no such object.
        """
        if propagation_policy == "Orphan":
            uid = self.store.get(rt, namespace, name)["metadata"].get("uid", "")
            self.gc.orphan(uid)
        if rt is resources.PODS:
            return delete_pod(
                self.store, namespace or "", name, grace_period_seconds=grace_period_seconds
            )
        return self.store.delete(rt, namespace, name)

    # -- change dispatch (called under the store lock: only bookkeeping and enqueueing) -------

    def _ips_on_node(self, node: str) -> list[str]:
        selector = parse_field_selector(
            f"spec.nodeName={node}", supported=supports_field(resources.PODS)
        )
        pods = self.store.list_objects(resources.PODS, field_selector=selector)
        return [p["status"]["podIP"] for p in pods if (p.get("status") or {}).get("podIP")]

    def _on_change(self, event: ChangeEvent) -> None:
        rt = event.resource
        if rt is resources.EVENTS or rt is resources.ENDPOINTS:
            return
        if rt is resources.SERVICES:
            service = orjson.loads(event.raw)
            self.allocations.sync(
                f"{event.namespace}/{event.name}", None if event.type == "DELETED" else service
            )
            self.endpoints.on_service(event, service, enqueue=not self._paused)
        if self._paused:
            return
        if rt is resources.PODS:
            self._on_pod(event, orjson.loads(event.raw))
        elif rt is resources.NODES:
            self.scheduler.on_node(event)
            self.daemonsets.on_node()
        elif rt is resources.DAEMONSETS:
            self.daemonsets.on_daemonset(event)
        elif rt is resources.DEPLOYMENTS:
            self.deployments.on_deployment(event)
        elif rt is resources.REPLICASETS:
            self.replicasets.on_replicaset(event)
            self.deployments.on_replicaset(orjson.loads(event.raw))
        elif rt is resources.NAMESPACES and event.type == "MODIFIED" and _terminating(event):
            self.gc.on_terminating(event.name)
        if event.type == "DELETED" and rt is not resources.PODS:
            self.gc.on_deleted(event, orjson.loads(event.raw))

    def _on_pod(self, event: ChangeEvent, pod: Obj) -> None:
        self.scheduler.on_pod(event, pod)
        self.kubelet.on_change(event, pod)
        self.daemonsets.on_pod(pod)
        self.replicasets.on_pod(pod)
        self.endpoints.on_pod(event)
        if event.type == "DELETED":
            self.conntrack.pod_deleted(pod)


def _terminating(event: ChangeEvent) -> bool:
    return bool(orjson.loads(event.raw)["metadata"].get("deletionTimestamp"))
