"""Which steps of a plan change a shared object, and what a run keeps once another owns it (pure).

Restarting kube-proxy pods changes what every Service on those nodes depends on: one run at a
time does it, for every alert its cause raised (the incident's owner). A run that finds the
restarts already owned leaves them, and the emergency NodePort it planned only because
kube-proxy fails, to the owner; it keeps what is its Service's own (selector, targetPort, app
pods) and asks for that alone.
"""

from __future__ import annotations

import dataclasses

from flows.checklist.actions import CreateEmergencyNodePort, RestartKubeProxyPod
from flows.checklist.mitigation import natural_key
from flows.checklist.plan import Plan
from flows.checklist.verification import VerifyKubeProxyReady
from runbooks.model import SharedObject


def shared_object(plan: Plan) -> SharedObject | None:
    """The shared object the plan changes, if any."""
    if any(isinstance(step, RestartKubeProxyPod) for step in plan.mutations):
        return SharedObject.KUBE_PROXY
    return None


def restarted_nodes(plan: Plan) -> tuple[str, ...]:
    """The nodes whose kube-proxy the plan restarts, in natural order."""
    restarts = (s.node for s in plan.mutations if isinstance(s, RestartKubeProxyPod))
    return tuple(sorted(restarts, key=natural_key))


def cause(plan: Plan) -> str:
    """The shared change in one line, as the incident states its cause."""
    nodes = restarted_nodes(plan)
    deferred = f" ({len(plan.deferred_nodes)} more deferred)" if plan.deferred_nodes else ""
    return f"kube-proxy needs a restart on {len(nodes)} node(s): {', '.join(nodes)}{deferred}"


def left_to_owner(plan: Plan) -> Plan:
    """`plan` without the steps the incident's owner takes for every Service.

    Gone: the kube-proxy restarts and their check, the emergency NodePort (a fallback for
    kube-proxy failing), and the deferred nodes (the owner's follow-ups restart those).
    """
    owned = (RestartKubeProxyPod, CreateEmergencyNodePort, VerifyKubeProxyReady)
    kept = tuple(step for step in plan.actions if not isinstance(step, owned))
    return dataclasses.replace(plan, actions=kept, deferred_nodes=(), restart_budget=None)
