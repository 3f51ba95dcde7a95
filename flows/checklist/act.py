"""Carrying out the checklist's mutations, each idempotent by the state it finds.

The adapter retries writes on transient errors, so a create may come back ``AlreadyExists`` and
a delete ``NotFound`` after the first attempt went through: both count as done. Deletes carry
the pod's uid as a precondition, so a pod replaced meanwhile is never deleted by mistake.
"""

from __future__ import annotations

from typing import assert_never

from flows.checklist.actions import (
    CreateEmergencyNodePort,
    PatchServiceSelector,
    PatchServiceTargetPort,
    RestartAppPod,
    RestartKubeProxyPod,
)
from flows.checklist.observation import EMERGENCY_LABEL
from flows.checklist.observe import KUBE_PROXY_SELECTOR, KUBE_SYSTEM
from flows.checklist.plan import Mutation
from flows.checklist.probes import StepFailedError, Waiting
from integrations.kubernetes import AlreadyExists, Conflict, Invalid, Kube, NotFound
from integrations.kubernetes.views import Service


def apply_mutation(kube: Kube, action: Mutation) -> str:
    """Carry out `action` once; returns what was done, for the report.

    Raises:
        StepFailedError: The object changed since the plan (a patch's test failed).
        KubeError: The API refused (Forbidden names the missing RBAC rule) or kept failing.
    """
    match action:
        case RestartKubeProxyPod():
            return _delete_pod(kube, KUBE_SYSTEM, action.pod, action.uid)
        case RestartAppPod():
            return _delete_pod(kube, action.namespace, action.pod, action.uid)
        case CreateEmergencyNodePort():
            return _create_emergency(kube, action)
        case PatchServiceSelector() | PatchServiceTargetPort():
            return _patch_service(kube, action)
        case _:
            assert_never(action)


def _delete_pod(kube: Kube, namespace: str, name: str, uid: str) -> str:
    try:
        kube.delete_pod(name, namespace, uid=uid or None)
    except NotFound:
        return f"pod {namespace}/{name} was already gone"
    except Conflict:
        return f"pod {namespace}/{name} was already replaced (uid changed); left alone"
    return f"deleted pod {namespace}/{name}"


def _node_ports(service: Service) -> str:
    return ", ".join(f"{p.port}->{p.node_port}" for p in service.ports if p.node_port) or "none"


def _create_emergency(kube: Kube, action: CreateEmergencyNodePort) -> str:
    try:
        created = kube.create_service(action.namespace, action.manifest())
    except AlreadyExists:
        existing = kube.get_service(action.name, action.namespace)
        if existing.meta.labels.get(EMERGENCY_LABEL) != "true":
            raise StepFailedError(
                f"Service {action.namespace}/{action.name} exists but is not an emergency "
                "Service of this engine; not touched"
            ) from None
        return f"Service {action.namespace}/{action.name} already existed (node ports " + (
            f"{_node_ports(existing)})"
        )
    return f"created Service {action.namespace}/{action.name}, node ports {_node_ports(created)}"


def _patch_service(kube: Kube, action: PatchServiceSelector | PatchServiceTargetPort) -> str:
    where = f"Service {action.namespace}/{action.service}"
    try:
        kube.patch_service(action.service, action.namespace, action.patch())
    except Invalid:
        current = kube.get_service(action.service, action.namespace)
        if _already_applied(current, action):
            return f"{where} already had the fix"
        raise StepFailedError(f"{where} changed since the plan was made; not patched") from None
    return f"patched {where}: " + "; ".join(line.strip() for line in action.diff()[1:])


def _already_applied(
    service: Service, action: PatchServiceSelector | PatchServiceTargetPort
) -> bool:
    if isinstance(action, PatchServiceSelector):
        return dict(service.selector) == dict(action.after)
    ports = service.ports
    return action.index < len(ports) and ports[action.index].target_port == action.after


def wait_for_kube_proxy_replacements(kube: Kube, replaced: dict[str, str], waiting: Waiting) -> str:
    """Wait until each node in `replaced` (node -> old pod uid) runs a new, Ready kube-proxy.

    Raises:
        StepFailedError: Not all replacements were Ready in time.
    """
    deadline = waiting.monotonic() + waiting.timeout_seconds
    started = waiting.monotonic()
    pending = dict(replaced)
    ready: dict[str, str] = {}
    while True:
        for node, old_uid in list(pending.items()):
            pods = kube.list_pods(
                KUBE_SYSTEM,
                label_selector=KUBE_PROXY_SELECTOR,
                field_selector=f"spec.nodeName={node}",
            )
            fresh = next(
                (p for p in pods if p.meta.uid != old_uid and not p.meta.deleting and p.ready), None
            )
            if fresh is not None:
                ready[node] = fresh.meta.name
                del pending[node]
        if not pending:
            took = waiting.monotonic() - started
            names = ", ".join(f"{pod} on {node}" for node, pod in sorted(ready.items()))
            return f"replacement Ready after {took:.1f}s: {names}"
        if waiting.monotonic() >= deadline:
            raise StepFailedError(
                f"kube-proxy on {', '.join(sorted(pending))} not Ready again within "
                f"{waiting.timeout_seconds:.0f}s after the restart; stopping the rolling restart"
            )
        waiting.sleep(waiting.poll_seconds)


def remove_emergency_service(kube: Kube, namespace: str, name: str) -> str:
    """Delete our emergency NodePort Service (only one carrying the emergency label)."""
    try:
        service = kube.get_service(name, namespace)
    except NotFound:
        return f"Service {namespace}/{name} was already gone"
    if service.meta.labels.get(EMERGENCY_LABEL) != "true":
        return f"Service {namespace}/{name} is not an emergency Service; left alone"
    try:
        kube.delete_service(name, namespace, uid=service.meta.uid)
    except NotFound:
        return f"Service {namespace}/{name} was already gone"
    return f"deleted Service {namespace}/{name}: the Service has recovered"
