"""Why a pod is unhealthy, in the checklist's words, and which log lines are errors."""

from __future__ import annotations

import re
from enum import StrEnum

from flows.checklist.observation import KubeProxyPod, PodState

CRASH_LOOP = "CrashLoopBackOff"
IMAGE_PULL_REASONS = frozenset({"ImagePullBackOff", "ErrImagePull", "InvalidImageName"})

_KLOG_ERROR = re.compile(r"^[EF]\d{4} ")
_PLAIN_ERROR = re.compile(r"\b(ERROR|FATAL|panic:|exec format error)", re.IGNORECASE)


class PodTrouble(StrEnum):
    """Why a pod is not serving."""

    CRASH_LOOP = "CrashLoopBackOff"
    IMAGE_PULL = "image pull failing"
    UNSCHEDULABLE = "unschedulable"
    PENDING = "Pending"
    READINESS_PROBE = "readiness probe failing"
    TERMINATING = "terminating"
    NOT_READY = "not Ready"


def pod_trouble(pod: PodState) -> PodTrouble | None:
    """Classify why `pod` is not Ready; None when it is Ready and not being deleted."""
    if pod.deleting:
        return PodTrouble.TERMINATING
    if pod.ready:
        return None
    if CRASH_LOOP in pod.waiting_reasons:
        return PodTrouble.CRASH_LOOP
    if IMAGE_PULL_REASONS.intersection(pod.waiting_reasons):
        return PodTrouble.IMAGE_PULL
    if pod.unschedulable is not None:
        return PodTrouble.UNSCHEDULABLE
    if pod.phase == "Pending":
        return PodTrouble.PENDING
    if any(_is_readiness_failure(e.reason, e.message) for e in pod.events):
        return PodTrouble.READINESS_PROBE
    return PodTrouble.NOT_READY


def _is_readiness_failure(reason: str, message: str) -> bool:
    return reason == "Unhealthy" and message.startswith("Readiness probe failed")


def describe_pod(pod: PodState) -> str:
    """One evidence line: the pod, its trouble, restarts and the latest warning event."""
    trouble = pod_trouble(pod)
    state = "Ready" if trouble is None else trouble.value
    line = f"pod {pod.name}: {state}"
    if pod.node_name:
        line += f" on {pod.node_name}"
    if pod.restart_count:
        line += f", {pod.restart_count} restarts"
    if trouble is PodTrouble.UNSCHEDULABLE:
        return f"{line} ({pod.unschedulable})"
    warning = next((e for e in reversed(pod.events) if e.type == "Warning"), None)
    if warning is not None and trouble is not None:
        line += f" ({warning.reason}: {warning.message})"
    return line


def kube_proxy_crash_looping(pod: KubeProxyPod) -> bool:
    """Whether kube-proxy's container keeps exiting."""
    return CRASH_LOOP in pod.waiting_reasons


def kube_proxy_healthy(pod: KubeProxyPod) -> bool:
    """Ready, not crash-looping, not being deleted, and no errors in its recent log."""
    return (
        pod.ready and not pod.deleting and not kube_proxy_crash_looping(pod) and not pod.error_lines
    )


def describe_kube_proxy(pod: KubeProxyPod) -> str:
    """One evidence line about a kube-proxy pod."""
    state = "Ready" if pod.ready else f"not Ready (phase {pod.phase})"
    if kube_proxy_crash_looping(pod):
        state = CRASH_LOOP
    line = f"kube-proxy pod {pod.name} on {pod.node_name or '(unscheduled)'}: {state}"
    if pod.restart_count:
        line += f", {pod.restart_count} restarts"
    if pod.updated is False:
        line += ", previous revision"
    return line


def error_lines(log: str, *, limit: int = 5) -> tuple[str, ...]:
    """The last `limit` distinct error lines of a log (klog ``E``/``F`` lines, ERROR, panics)."""
    found: list[str] = []
    for raw in log.splitlines():
        line = raw.strip()
        if not line or not (_KLOG_ERROR.match(line) or _PLAIN_ERROR.search(line)):
            continue
        if line in found:
            found.remove(line)
        found.append(line)
    return tuple(found[-limit:])
