"""The targets of the alerts an incident covered, checked once its owner's change is done.

One pass over all of them, with one client and one deadline, however many Services joined: a
Service is working again once it has ready endpoints, a node once its kube-proxy pod is Ready,
the cluster once every kube-proxy pod is.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from prefect import task
from prefect.cache_policies import NO_CACHE

from flows.checklist.observation import KubeProxyState
from flows.checklist.observe import observe_endpoints, observe_kube_proxy
from flows.checklist.tasks import waiting
from flows.incident.records import JoinedAlert
from flows.runtime import current_runtime
from flows.task_policy import RETRIED_ON_TRANSIENT
from integrations.kubernetes import Kube


@dataclass(frozen=True, slots=True)
class Target:
    """What a covered alert is about, and all its check needs to know of it.

    Attributes:
        name: ``namespace/service``, a node, or the cluster (as the report shows it).
        service: The Service's namespace and name, when the alert names one.
        instance: The node whose kube-proxy it is about, when it names one.
    """

    name: str
    service: tuple[str, str] | None
    instance: str | None


def targets_of(alerts: Iterable[JoinedAlert]) -> list[Target]:
    """The alerts' targets, each once, in order.

    The check is a task: Prefect walks every argument of a task run, and a storm's joined
    alerts (their parameters, tags and labels) took a third of the engine's CPU that way.
    """
    targets: dict[str, Target] = {}
    for alert in alerts:
        if alert.target not in targets:
            instance = alert.parameters.get("instance")
            targets[alert.target] = Target(
                alert.target, alert.service, str(instance) if instance else None
            )
    return list(targets.values())


@dataclass(frozen=True, slots=True)
class TargetCheck:
    """What was seen on one target: whether it works, and the words for the report."""

    ok: bool
    seen: str


def _kube_proxy_check(state: KubeProxyState, node: str | None) -> TargetCheck:
    pod = state.pod_on(node) if node else None
    if pod is not None:
        return TargetCheck(
            pod.ready, f"kube-proxy on {node} {'Ready' if pod.ready else 'not Ready'}"
        )
    ready = sum(1 for p in state.pods if p.ready and not p.deleting)
    live = sum(1 for p in state.pods if not p.deleting)
    return TargetCheck(live > 0 and ready == live, f"kube-proxy Ready on {ready} of {live} node(s)")


def check_targets(kube: Kube, targets: list[Target]) -> dict[str, TargetCheck]:
    """One look at each target (`targets_of` gave each once), by name."""
    checks: dict[str, TargetCheck] = {}
    kube_proxy: KubeProxyState | None = None
    for target in targets:
        if target.service is not None:
            state = observe_endpoints(kube, *target.service)
            seen = f"{state.ready} ready, {state.not_ready} not ready endpoint(s)"
            checks[target.name] = TargetCheck(state.ready > 0, seen)
            continue
        kube_proxy = kube_proxy or observe_kube_proxy(kube)
        checks[target.name] = _kube_proxy_check(kube_proxy, target.instance)
    return checks


@task(
    name="verify-covered-targets",
    cache_policy=NO_CACHE,
    **RETRIED_ON_TRANSIENT,
)
def verify_covered(targets: list[Target], timeout_seconds: float) -> dict[str, TargetCheck]:
    """Look at every target until all work or `timeout_seconds` pass; the last look of each."""
    runtime = current_runtime()
    wait = waiting(runtime, timeout_seconds)
    deadline = wait.monotonic() + wait.timeout_seconds
    with runtime.kube_factory() as kube:
        pending = list(targets)
        checks: dict[str, TargetCheck] = {}
        while True:
            checks |= check_targets(kube, pending)
            pending = [t for t in pending if not checks[t.name].ok]
            if not pending or wait.monotonic() >= deadline:
                return checks
            wait.sleep(wait.poll_seconds)
