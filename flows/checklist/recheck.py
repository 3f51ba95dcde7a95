"""Right before a step runs: does the cluster's state still call for it?"""

from __future__ import annotations

from dataclasses import dataclass
from typing import assert_never

from flows.checklist.actions import (
    CreateEmergencyNodePort,
    PatchServiceSelector,
    PatchServiceTargetPort,
    RestartAppPod,
    RestartKubeProxyPod,
)
from flows.checklist.health import kube_proxy_healthy
from flows.checklist.mitigation import kube_proxy_broken_somewhere
from flows.checklist.observation import Observation
from flows.checklist.plan import Action
from flows.checklist.verification import (
    VerifyAlertResolved,
    VerifyKubeProxyReady,
    VerifyServiceConnectivity,
    VerifyServiceEndpoints,
    VerifyTargetPort,
)


@dataclass(frozen=True, slots=True)
class Proceed:
    """The state still calls for the step."""


@dataclass(frozen=True, slots=True)
class Skip:
    """The step is no longer needed (or no longer safe), and why."""

    reason: str


Recheck = Proceed | Skip
PROCEED = Proceed()


def recheck(action: Action, observation_now: Observation) -> Recheck:
    """Decide from a fresh observation whether `action` should still run.

    Read-only steps always proceed. A step whose target changed since it was planned is
    skipped rather than applied to something nobody looked at.
    """
    match action:
        case RestartKubeProxyPod():
            return _kube_proxy_restart(action, observation_now)
        case CreateEmergencyNodePort():
            return _emergency_nodeport(action, observation_now)
        case RestartAppPod():
            return _app_pod_restart(action, observation_now)
        case PatchServiceSelector():
            return _selector_patch(action, observation_now)
        case PatchServiceTargetPort():
            return _target_port_patch(action, observation_now)
        case (
            VerifyServiceEndpoints()
            | VerifyTargetPort()
            | VerifyServiceConnectivity()
            | VerifyKubeProxyReady()
            | VerifyAlertResolved()
        ):
            return PROCEED
        case _:
            assert_never(action)


def _kube_proxy_restart(action: RestartKubeProxyPod, now: Observation) -> Recheck:
    if now.kube_proxy is None:
        return Skip("kube-proxy was not observed, so its state cannot be confirmed")
    pod = next((p for p in now.kube_proxy.pods if p.name == action.pod), None)
    if pod is None or (action.uid and pod.uid != action.uid):
        return Skip(f"pod {action.pod} is gone (already replaced)")
    if pod.deleting:
        return Skip(f"pod {action.pod} is already being deleted")
    if kube_proxy_healthy(pod):
        return Skip(f"pod {action.pod} is Ready again without errors")
    node = next((n for n in now.nodes if n.name == action.node), None)
    if node is not None and not node.ready:
        return Skip(f"node {action.node} is not Ready: a new pod would fail the same way")
    return PROCEED


def _emergency_nodeport(action: CreateEmergencyNodePort, now: Observation) -> Recheck:
    if now.emergency_service is not None:
        return Skip(f"Service {action.namespace}/{action.name} already exists")
    service = now.service
    if service is None:
        return Skip(f"Service {action.namespace}/{action.service} is gone")
    if dict(service.selector) != dict(action.selector):
        return Skip("the Service's selector changed since the plan was made")
    if not now.ready_pods:
        return Skip("no Ready pod to expose")
    if now.kube_proxy is None:
        return Skip("kube-proxy was not observed, so the fallback cannot be justified")
    if not kube_proxy_broken_somewhere(now):
        return Skip("kube-proxy is healthy on every node again")
    return PROCEED


def _app_pod_restart(action: RestartAppPod, now: Observation) -> Recheck:
    pod = now.pod(action.pod)
    if pod is None or (action.uid and pod.uid != action.uid):
        return Skip(f"pod {action.pod} is gone (already replaced)")
    if pod.deleting:
        return Skip(f"pod {action.pod} is already being deleted")
    if pod.ready:
        return Skip(f"pod {action.pod} is Ready again")
    return PROCEED


def _selector_patch(action: PatchServiceSelector, now: Observation) -> Recheck:
    service = now.service
    if service is None:
        return Skip(f"Service {action.namespace}/{action.service} is gone")
    selector = dict(service.selector)
    if selector == dict(action.after):
        return Skip("the selector is already fixed")
    if selector != dict(action.before):
        return Skip("the selector changed since the plan was made")
    return PROCEED


def _target_port_patch(action: PatchServiceTargetPort, now: Observation) -> Recheck:
    service = now.service
    if service is None:
        return Skip(f"Service {action.namespace}/{action.service} is gone")
    ports = service.ports
    if action.index >= len(ports) or ports[action.index].port != action.port:
        return Skip("the Service's ports changed since the plan was made")
    target = ports[action.index].target_port
    if target == action.after:
        return Skip("the targetPort is already fixed")
    if target != action.before:
        return Skip("the targetPort changed since the plan was made")
    return PROCEED
