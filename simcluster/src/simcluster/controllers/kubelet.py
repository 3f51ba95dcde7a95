"""The simulated kubelets: run bound pods through Pending, Running, Ready or CrashLoopBackOff."""

from __future__ import annotations

import contextlib
import threading
from typing import Any

from simcluster import resources
from simcluster.controllers.context import Context, key_of, node_ip
from simcluster.controllers.podstatus import (
    PULL_FAILURES,
    ContainerRun,
    backoff_for,
    pod_status,
)
from simcluster.controllers.termination import is_terminating
from simcluster.errors import ConflictError, NotFoundError
from simcluster.watch import ChangeEvent

Obj = dict[str, Any]
_EPSILON = 1e-6


def current_run(pod: Obj) -> ContainerRun | None:
    """Read the containers' state back from a pod's status (None before the kubelet saw it)."""
    statuses = (pod.get("status") or {}).get("containerStatuses") or []
    if not statuses:
        return None
    first = statuses[0]
    state = first.get("state") or {}
    last = (first.get("lastState") or {}).get("terminated") or {}
    restarts = int(first.get("restartCount", 0))
    began, ended = last.get("startedAt"), last.get("finishedAt")
    if "running" in state:
        return ContainerRun(
            "running",
            ready=bool(first.get("ready")),
            restart_count=restarts,
            started_at=state["running"].get("startedAt"),
            last_started_at=began,
            last_finished_at=ended,
        )
    waiting = state.get("waiting") or {}
    if waiting.get("reason") in PULL_FAILURES:
        return ContainerRun(
            "pullfail",
            restart_count=restarts,
            pull_reason=str(waiting["reason"]),
            pull_message=str(waiting.get("message") or ""),
        )
    crashing = waiting.get("reason") == "CrashLoopBackOff"
    return ContainerRun(
        "crashloop" if crashing else "creating",
        restart_count=restarts,
        last_started_at=began,
        last_finished_at=ended,
    )


class Kubelet:
    """Every node's kubelet in one: decides each pod's next lifecycle step and when.

    Args:
        ctx: The shared controller context.
    """

    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx
        self._due: dict[str, float] = {}
        self._pulls: dict[str, int] = {}
        # Pods being stopped: their uid and when the kubelet began (monotonic seconds).
        self._stopping: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()

    def on_change(self, event: ChangeEvent, pod: Obj) -> None:
        """React to a pod change (called under the store lock: only enqueue)."""
        key = f"{event.namespace}/{event.name}"
        if event.type == "DELETED":
            with self._lock:
                self._due.pop(key, None)
                self._pulls.pop(key, None)
                self._stopping.pop(key, None)
            node, ip = pod["spec"].get("nodeName"), (pod.get("status") or {}).get("podIP")
            if node and ip and not pod["spec"].get("hostNetwork"):
                self._ctx.pod_addresses.release(node, ip)
            return
        if pod["spec"].get("nodeName"):
            self._ctx.runtime.enqueue(self.reconcile, key)

    def wake(self, key: str) -> None:
        """Re-evaluate a pod now, without waiting for its pending back-off or probe (a heal)."""
        with self._lock:
            self._due.pop(key, None)
        self._ctx.runtime.enqueue(self.reconcile, key)

    def reconcile(self, key: str) -> None:
        """Take the pod's next step if it is due."""
        pod = self._ctx.find(resources.PODS, key)
        if pod is None or not pod["spec"].get("nodeName"):
            return
        if is_terminating(pod):
            # Before any pending back-off or probe: a pod being deleted is only stopped.
            self._terminate(key, pod)
            return
        with self._lock:
            due = self._due.get(key)
        if due is not None and due > self._ctx.clock.monotonic() + _EPSILON:
            return
        run = current_run(pod)
        if run is None:
            self._accept(key, pod)
        elif run.stage in ("creating", "pullfail"):
            self._start(key, pod, run)
        elif run.stage == "crashloop":
            self._restart(key, pod, run)
        else:
            self._probe(key, pod, run)

    def _terminate(self, key: str, pod: Obj) -> None:
        """Stop a pod marked for deletion, then delete it once its (scaled) grace period ends.

        A real kubelet sends SIGTERM and removes the pod as soon as its containers exit, at the
        latest when the grace period ends; here the pod stays Terminating for the grace period
        times ``settings.termination_grace_scale``.
        """
        meta = pod["metadata"]
        uid, now = str(meta.get("uid", "")), self._ctx.clock.monotonic()
        with self._lock:
            started = self._stopping.get(key)
            first = started is None or started[0] != uid
            if first:
                self._stopping[key] = (uid, now)
                self._due.pop(key, None)
            began = self._stopping[key][1]
        if first:
            for container in pod["spec"].get("containers") or []:
                path = f"spec.containers{{{container['name']}}}"
                message = f"Stopping container {container['name']}"
                self._record(pod, "Normal", "Killing", message, path)
        grace = float(meta.get("deletionGracePeriodSeconds") or 0)
        remaining = began + grace * self._ctx.settings.termination_grace_scale - now
        if remaining > _EPSILON:
            # A later, shorter delete moves the deadline closer; this call then re-checks.
            self._ctx.runtime.schedule(remaining, self.reconcile, key)
            return
        # Gone already, or replaced by a pod of the same name.
        with contextlib.suppress(NotFoundError, ConflictError):
            self._ctx.store.delete(resources.PODS, meta["namespace"], meta["name"], uid=uid)

    def _later(self, key: str, delay: float) -> None:
        with self._lock:
            self._due[key] = self._ctx.clock.monotonic() + delay
        self._ctx.runtime.schedule(delay, self.reconcile, key)

    def _node(self, pod: Obj) -> Obj | None:
        try:
            return self._ctx.store.get(resources.NODES, None, pod["spec"]["nodeName"])
        except NotFoundError:
            return None

    def _write(self, pod: Obj, run: ContainerRun, *, pod_ip: str | None) -> None:
        node = self._node(pod)
        if node is None:
            return
        status = pod.get("status") or {}
        new = pod_status(
            pod,
            run,
            host_ip=node_ip(node),
            pod_ip=pod_ip,
            start_time=status.get("startTime") or self._ctx.now(),
            now=self._ctx.now(),
        )
        meta = pod["metadata"]

        def mutate(current: Obj) -> None:
            if current["metadata"].get("uid") == meta.get("uid"):
                current["status"] = new

        self._ctx.store.update(resources.PODS, meta["namespace"], meta["name"], mutate)

    def _accept(self, key: str, pod: Obj) -> None:
        node = pod["spec"]["nodeName"]
        self._record(pod, "Normal", "Scheduled", f"Successfully assigned {key} to {node}", "")
        self._write(pod, ContainerRun("creating"), pod_ip=None)
        self._later(key, self._ctx.settings.pod_start_delay)

    def _allocate_ip(self, pod: Obj) -> str | None:
        node = self._node(pod)
        if node is None:
            return None
        if pod["spec"].get("hostNetwork"):
            return node_ip(node)
        cidr = (node.get("spec") or {}).get("podCIDR") or "10.244.0.0/24"
        return self._ctx.pod_addresses.allocate(node["metadata"]["name"], cidr)

    def _start(self, key: str, pod: Obj, run: ContainerRun) -> None:
        ip = (pod.get("status") or {}).get("podIP") or self._allocate_ip(pod)
        failed = self._ctx.health.pull_error(pod)
        if failed is not None:
            self._fail_pull(key, pod, ip, *failed)
            return
        with self._lock:
            self._pulls.pop(key, None)
        for container in pod["spec"].get("containers") or []:
            image, path = container["image"], f"spec.containers{{{container['name']}}}"
            self._record(
                pod,
                "Normal",
                "Pulled",
                f'Container image "{image}" already present on machine',
                path,
            )
            self._record(pod, "Normal", "Created", f"Created container {container['name']}", path)
            self._record(pod, "Normal", "Started", f"Started container {container['name']}", path)
        self._run_or_crash(key, pod, run, ip)

    def _fail_pull(self, key: str, pod: Obj, ip: str | None, image: str, error: str) -> None:
        """The image does not pull: ErrImagePull at each attempt, ImagePullBackOff between."""
        with self._lock:
            attempts = self._pulls[key] = self._pulls.get(key, 0) + 1
        settings = self._ctx.settings
        backoff = backoff_for(
            attempts, base=settings.crash_backoff_seconds, cap=settings.crash_backoff_max_seconds
        )
        container = next(c for c in pod["spec"]["containers"] if c.get("image") == image)
        path = f"spec.containers{{{container['name']}}}"
        if attempts == 1:
            reason, message = "ErrImagePull", error
            self._record(pod, "Normal", "Pulling", f'Pulling image "{image}"', path)
            self._record(pod, "Warning", "Failed", f'Failed to pull image "{image}": {error}', path)
        else:
            reason, message = "ImagePullBackOff", f'Back-off pulling image "{image}"'
            self._record(pod, "Normal", "BackOff", message, path)
        self._record(pod, "Warning", "Failed", f"Error: {reason}", path)
        waiting = ContainerRun("pullfail", pull_reason=reason, pull_message=message)
        self._write(pod, waiting, pod_ip=ip)
        self._later(key, backoff)

    def _run_or_crash(self, key: str, pod: Obj, run: ContainerRun, ip: str | None) -> None:
        now = self._ctx.now()
        if self._ctx.health.crash_cause(pod) is not None:
            self._crash(key, pod, run, ip, started_at=now)
            return
        running = ContainerRun(
            "running",
            ready=False,
            restart_count=run.restart_count,
            started_at=now,
            last_started_at=run.last_started_at,
            last_finished_at=run.last_finished_at,
        )
        self._write(pod, running, pod_ip=ip)
        self._later(key, self._ctx.settings.pod_ready_delay)

    def _crash(
        self, key: str, pod: Obj, run: ContainerRun, ip: str | None, *, started_at: str | None
    ) -> None:
        settings = self._ctx.settings
        restarts = run.restart_count + 1
        backoff = backoff_for(
            restarts, base=settings.crash_backoff_seconds, cap=settings.crash_backoff_max_seconds
        )
        crashed = ContainerRun(
            "crashloop",
            restart_count=restarts,
            last_started_at=started_at or run.started_at,
            last_finished_at=self._ctx.now(),
            backoff_seconds=int(backoff),
        )
        self._write(pod, crashed, pod_ip=ip)
        for container in pod["spec"].get("containers") or []:
            path = f"spec.containers{{{container['name']}}}"
            self._record(pod, "Warning", "BackOff", "Back-off restarting failed container", path)
        self._later(key, backoff)

    def _restart(self, key: str, pod: Obj, run: ContainerRun) -> None:
        ip = (pod.get("status") or {}).get("podIP") or self._allocate_ip(pod)
        for container in pod["spec"].get("containers") or []:
            path = f"spec.containers{{{container['name']}}}"
            self._record(
                pod,
                "Normal",
                "Pulled",
                f'Container image "{container["image"]}" already present on machine',
                path,
            )
            self._record(pod, "Normal", "Started", f"Started container {container['name']}", path)
        self._run_or_crash(key, pod, run, ip)

    def _probe(self, key: str, pod: Obj, run: ContainerRun) -> None:
        ip = (pod.get("status") or {}).get("podIP")
        if self._ctx.health.crash_cause(pod) is not None:
            self._crash(key, pod, run, ip, started_at=run.started_at)
            return
        if self._ctx.health.readiness_fails(pod):
            for container in pod["spec"].get("containers") or []:
                path = f"spec.containers{{{container['name']}}}"
                message = "Readiness probe failed: HTTP probe failed with statuscode: 503"
                self._record(pod, "Warning", "Unhealthy", message, path)
            if run.ready:
                self._write(pod, _with_ready(run, ready=False), pod_ip=ip)
            self._later(key, self._ctx.settings.probe_period_seconds)
            return
        if not run.ready:
            self._write(pod, _with_ready(run, ready=True), pod_ip=ip)

    def _record(self, pod: Obj, kind: str, reason: str, message: str, path: str) -> None:
        self._ctx.events.record(
            pod,
            kind="Warning" if kind == "Warning" else "Normal",
            reason=reason,
            message=message,
            component="default-scheduler" if reason == "Scheduled" else "kubelet",
            field_path=path or None,
        )


def _with_ready(run: ContainerRun, *, ready: bool) -> ContainerRun:
    return ContainerRun(
        "running",
        ready=ready,
        restart_count=run.restart_count,
        started_at=run.started_at,
        last_started_at=run.last_started_at,
        last_finished_at=run.last_finished_at,
    )


__all__ = ["Kubelet", "current_run", "key_of"]
