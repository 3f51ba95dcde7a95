"""Waiting for what a step changed to show: the cluster read again until a verdict holds.

A verification is true only by what it saw: each look re-reads the cluster (never a cached
observation) and says what it found, and the last sight is what a failed step reports.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flows.checklist.conversion import service_state
from flows.checklist.health import kube_proxy_healthy
from flows.checklist.mitigation import natural_key
from flows.checklist.observe import (
    KUBE_PROXY_SELECTOR,
    KUBE_SYSTEM,
    observe_endpoints,
    observe_kube_proxy,
    observe_service,
)
from flows.checklist.proposals import port_resolves
from flows.runtime import AlertChecker, AlertRef, AlertStatus
from integrations.kubernetes import Forbidden, Kube, KubeError, Unauthorized


class StepFailedError(Exception):
    """A step could not achieve its effect; the message says what was seen."""


class CheckUnavailableError(Exception):
    """A check cannot be made on this cluster (e.g. exec forbidden); the message says why."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Waiting:
    """How long to wait for the cluster to converge, and how often to look."""

    timeout_seconds: float
    poll_seconds: float
    monotonic: Callable[[], float]
    sleep: Callable[[float], None]


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
    """kube-proxy is Ready and logs no errors on the nodes this run restarted.

    Only those: a node the run deferred (over its budget) is still broken by design, and is
    reported as deferred, not waited for until the timeout.
    """

    def look() -> Verdict:
        state = observe_kube_proxy(kube, frozenset(restarted))
        failing = []
        for node in restarted:
            pod = state.pod_on(node)
            if pod is None or not kube_proxy_healthy(pod):
                failing.append(node)
        if failing:
            return Verdict(False, f"kube-proxy not healthy on {', '.join(failing)}")
        return Verdict(
            True,
            f"kube-proxy Ready without sync errors on the {len(restarted)} restarted node(s): "
            f"{', '.join(restarted)}",
        )

    return keep_looking(look, waiting, what="kube-proxy is Ready on the restarted nodes")


def verify_target_port(
    kube: Kube, namespace: str, service: str, *, port: int, waiting: Waiting
) -> str:
    """The Service's `port` has a targetPort that every selected pod declares."""

    def look() -> Verdict:
        view = observe_service(kube, namespace, service)
        state = view.service
        entry = next((p for p in state.ports if p.port == port), None) if state else None
        if state is None or entry is None:
            return Verdict(False, f"Service {namespace}/{service} has no port {port}")
        if not view.pods:
            return Verdict(False, "the selector matches no pod")
        verdicts = {pod.name: port_resolves(entry, pod) for pod in view.pods}
        missing = sorted(name for name, served in verdicts.items() if served is False)
        target = f"targetPort {entry.target_port!r}"
        if missing:
            return Verdict(False, f"{target}: not declared by {', '.join(missing)}")
        if all(served is None for served in verdicts.values()):
            return Verdict(True, f"{target}: the pods declare no ports, so any may serve it")
        return Verdict(True, f"{target} declared by all {len(verdicts)} selected pod(s)")

    return keep_looking(
        look, waiting, what=f"port {port} of Service {namespace}/{service} targets a declared port"
    )


CONNECT_SECONDS = 2
EXEC_SECONDS = 10.0
_MISSING_TOOL = ("not found", "no such file")


def verify_connectivity(
    kube: Kube, namespace: str, service: str, *, port: int, waiting: Waiting
) -> str:
    """A TCP connect to the Service's ClusterIP:`port` from a Ready kube-proxy pod succeeds.

    Raises:
        CheckUnavailableError: The connect cannot be tried here (no ClusterIP, no Ready
            kube-proxy pod, exec refused, or no tool in the kube-proxy image to connect with).
        StepFailedError: It was tried and kept failing until the timeout.
    """
    state = service_state(kube.get_service(service, namespace))
    ip = state.cluster_ip
    if not ip or ip == "None":
        raise CheckUnavailableError(f"Service {namespace}/{service} has no ClusterIP")
    pods = [
        p
        for p in kube.list_pods(KUBE_SYSTEM, label_selector=KUBE_PROXY_SELECTOR)
        if p.ready and not p.meta.deleting and p.node_name
    ]
    if not pods:
        raise CheckUnavailableError("no Ready kube-proxy pod to connect from")
    pod = min(pods, key=lambda p: natural_key(p.node_name or ""))

    def look() -> Verdict:
        reached, seen = tcp_connect(kube, pod.meta.name, ip, port)
        where = f"from kube-proxy pod {pod.meta.name} on {pod.node_name}"
        if reached:
            return Verdict(True, f"TCP connect to {ip}:{port} {where} succeeded ({seen})")
        return Verdict(False, f"TCP connect to {ip}:{port} {where} failed: {seen}")

    return keep_looking(look, waiting, what=f"Service {namespace}/{service} port {port} answers")


def tcp_connect(kube: Kube, pod: str, ip: str, port: int) -> tuple[bool, str]:
    """Connect from kube-proxy's `pod` (the node's network) to ip:port: whether it connected,
    and how (or what the tool said).

    ``nc -z`` where the image has it, else bash's ``/dev/tcp``.

    Raises:
        CheckUnavailableError: exec is refused, or the image has neither tool.
    """
    attempts = (
        ("nc -z", ["nc", "-z", "-w", str(CONNECT_SECONDS), ip, str(port)]),
        ("bash /dev/tcp", ["bash", "-c", f"exec 3<>/dev/tcp/{ip}/{port}"]),
    )
    missing: list[str] = []
    for tool, command in attempts:
        try:
            result = kube.exec_in_pod(pod, KUBE_SYSTEM, command, timeout_seconds=EXEC_SECONDS)
        except (Forbidden, Unauthorized) as error:
            raise CheckUnavailableError(
                f"exec into kube-proxy pods is not allowed here: {error}"
            ) from error
        except KubeError as error:
            if any(text in str(error).lower() for text in _MISSING_TOOL):
                missing.append(tool.split()[0])
                continue
            raise
        said = (result.stderr or result.stdout).strip()
        if result.exit_code in (126, 127) or any(t in said.lower() for t in _MISSING_TOOL):
            missing.append(tool.split()[0])
            continue
        return result.exit_code == 0, tool if result.exit_code == 0 else said or "exit 1"
    raise CheckUnavailableError(
        f"the kube-proxy image has no {' and no '.join(missing)} to connect with"
    )


def verify_alert_resolved(alertmanager: AlertChecker, alert: AlertRef, waiting: Waiting) -> str:
    """Alertmanager no longer lists the alert."""

    def look() -> Verdict:
        status = alertmanager.status(alert)
        return Verdict(status is AlertStatus.RESOLVED, f"Alertmanager says {status.value}")

    return keep_looking(
        look, waiting, what=f"alert {alert.alertname or alert.fingerprint} resolved"
    )
