"""Minute 5: read-only checks, repeated until they pass or the verification time is up."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flows.checklist.health import kube_proxy_healthy
from flows.checklist.steps.act import StepFailedError, Waiting
from flows.checklist.steps.observe import observe_endpoints, observe_kube_proxy
from flows.runtime import AlertChecker, AlertRef, AlertStatus
from integrations.kubernetes import Kube
from integrations.kubernetes.views import Node


@dataclass(frozen=True, slots=True)
class Verdict:
    """One look: passed, and what was seen."""

    passed: bool
    seen: str


def keep_looking(look: Callable[[], Verdict], waiting: Waiting, *, what: str) -> str:
    """Look until a look passes; raise StepFailedError with the last sight when time is up."""
    deadline = waiting.monotonic() + waiting.timeout_seconds
    while True:
        verdict = look()
        if verdict.passed:
            return verdict.seen
        if waiting.monotonic() >= deadline:
            raise StepFailedError(
                f"{what}: not so after {waiting.timeout_seconds:.0f}s; {verdict.seen}"
            )
        waiting.sleep(waiting.poll_seconds)


def verify_endpoints(kube: Kube, namespace: str, service: str, waiting: Waiting) -> str:
    """The Service has ready endpoints again."""

    def look() -> Verdict:
        state = observe_endpoints(kube, namespace, service)
        return Verdict(state.ready > 0, f"{state.ready} ready, {state.not_ready} not ready")

    return keep_looking(look, waiting, what=f"Service {namespace}/{service} has ready endpoints")


def verify_kube_proxy(kube: Kube, restarted: tuple[str, ...], waiting: Waiting) -> str:
    """kube-proxy is Ready on every Ready node, and logs no errors on the nodes restarted."""

    def look() -> Verdict:
        ready_nodes = [n.meta.name for n in kube.list_nodes() if _ready(n)]
        state = observe_kube_proxy(kube, frozenset(restarted))
        failing = []
        for node in ready_nodes:
            pod = state.pod_on(node)
            healthy = pod is not None and (
                kube_proxy_healthy(pod) if node in restarted else pod.ready
            )
            if not healthy:
                failing.append(node)
        if failing:
            return Verdict(False, f"kube-proxy not healthy on {', '.join(failing)}")
        return Verdict(True, f"kube-proxy Ready on all {len(ready_nodes)} Ready node(s)")

    return keep_looking(look, waiting, what="kube-proxy is Ready on every node")


def _ready(node: Node) -> bool:
    return node.ready


def verify_alert_resolved(alertmanager: AlertChecker, alert: AlertRef, waiting: Waiting) -> str:
    """Alertmanager no longer lists the alert."""

    def look() -> Verdict:
        status = alertmanager.status(alert)
        return Verdict(status is AlertStatus.RESOLVED, f"Alertmanager says {status.value}")

    return keep_looking(
        look, waiting, what=f"alert {alert.alertname or alert.fingerprint} resolved"
    )
