"""Planning minutes 2-3: restart failing kube-proxy pods, open fallback access, restart pods."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from flows.checklist.actions import (
    CreateEmergencyNodePort,
    Phase,
    RestartAppPod,
    RestartKubeProxyPod,
)
from flows.checklist.budgets import HourlyBudget, restart_budget
from flows.checklist.health import (
    PodTrouble,
    kube_proxy_crash_looping,
    kube_proxy_healthy,
    pod_trouble,
)
from flows.checklist.kube_proxy_diagnosis import kube_proxy_pods_in_scope, nodes_in_scope
from flows.checklist.notes import Note, NoteKind
from flows.checklist.observation import KubeProxyPod, Observation, PodState
from flows.checklist.parameters import ChecklistParameters
from runbooks.approval import ActionKind

NeedsApproval = Callable[[ActionKind], bool]
"""Whether an action kind needs a human's approval in this run."""

RESTARTABLE_TROUBLES = frozenset(
    {PodTrouble.CRASH_LOOP, PodTrouble.READINESS_PROBE, PodTrouble.NOT_READY}
)
"""Troubles a fresh pod may shed; Pending and image-pull failures come back the same."""


@dataclass(frozen=True, slots=True)
class KubeProxyRestarts:
    """The planned kube-proxy restarts, the nodes over budget, and notes on the rest."""

    actions: tuple[RestartKubeProxyPod, ...]
    deferred_nodes: tuple[str, ...]
    notes: tuple[Note, ...]


def kube_proxy_broken_somewhere(observation: Observation) -> bool:
    """Whether kube-proxy is unhealthy or missing on a Ready node in scope."""
    state = observation.kube_proxy
    if state is None or state.daemon_set is None:
        return False
    if any(not kube_proxy_healthy(p) for p in kube_proxy_pods_in_scope(observation)):
        return True
    return any(n.ready and state.pod_on(n.name) is None for n in nodes_in_scope(observation))


def natural_key(name: str) -> tuple[tuple[int, int | str], ...]:
    """Sort key that puts ``node-2`` before ``node-10``."""
    return tuple(
        (0, int(part)) if part.isdigit() else (1, part) for part in re.split(r"(\d+)", name)
    )


def _restart_order(
    pod: KubeProxyPod, *, own_node: str | None
) -> tuple[int, int, tuple[tuple[int, int | str], ...]]:
    # The node the run's alert is about goes first, so a budget that defers nodes never defers
    # the one the run verifies; then pods that serve nothing; Ready ones with log errors last.
    own = 0 if own_node is not None and pod.node_name == own_node else 1
    serving = 0 if kube_proxy_crash_looping(pod) or not pod.ready else 1
    return (own, serving, natural_key(pod.node_name or ""))


def plan_kube_proxy_restarts(
    observation: Observation,
    parameters: ChecklistParameters,
    *,
    needs_approval: NeedsApproval,
    rollout_stuck: bool,
) -> KubeProxyRestarts:
    """Restart only unhealthy kube-proxy pods, a wave of nodes at a time, within the budget.

    Pods on NotReady nodes are left alone (a new pod fails the same way); so are failing pods
    of a new revision when the rollout is stuck (the rollback flow is the fix for those).
    """
    ready_nodes = {n.name for n in observation.nodes if n.ready}
    notes: list[Note] = []
    candidates: list[KubeProxyPod] = []
    for pod in kube_proxy_pods_in_scope(observation):
        if kube_proxy_healthy(pod) or pod.node_name is None:
            continue
        if pod.node_name not in ready_nodes:
            notes.append(_manual(f"kube-proxy pod {pod.name}: node {pod.node_name} is not Ready"))
        elif rollout_stuck and pod.updated is True:
            continue
        else:
            candidates.append(pod)
    target = observation.target_node
    own_node = target.name if target is not None else None
    candidates.sort(key=lambda pod: _restart_order(pod, own_node=own_node))
    budgets = kube_proxy_budget(observation, parameters)
    budget = budgets.this_run
    wave_size = max(1, min(parameters.kube_proxy_restart_parallelism, budget))
    approval = needs_approval(ActionKind.RESTART_KUBE_PROXY_POD)
    actions = tuple(
        RestartKubeProxyPod(
            pod=pod.name,
            uid=pod.uid,
            node=pod.node_name or "",
            wave=index // wave_size,
            needs_approval=approval,
        )
        for index, pod in enumerate(candidates[:budget])
    )
    deferred = tuple(pod.node_name or "" for pod in candidates[budget:])
    if deferred:
        notes.append(
            Note(
                kind=NoteKind.DEFERRED,
                phase=Phase.MITIGATE,
                text=_deferred_text(len(deferred), budgets, planned=len(actions)),
                details=deferred,
            )
        )
    return KubeProxyRestarts(actions, deferred, tuple(notes))


def kube_proxy_budget(observation: Observation, parameters: ChecklistParameters) -> HourlyBudget:
    """The kube-proxy restarts this run may make, of the nodes observed."""
    return HourlyBudget.of(
        len(observation.nodes) or _desired(observation),
        run_fraction=parameters.kube_proxy_restart_budget_fraction,
        hour_fraction=parameters.kube_proxy_restart_hourly_budget_fraction,
        used=parameters.restarted_this_hour,
    )


def _deferred_text(count: int, budget: HourlyBudget, *, planned: int) -> str:
    head = f"kube-proxy needs a restart on {count} more node(s)"
    if budget.this_run == 0:
        return (
            f"{head}, but this hour's budget of {budget.per_hour} of {budget.nodes} nodes is "
            f"spent ({budget.used} restarted): run the checklist again later"
        )
    over = f"{head}, over this run's budget of {budget.this_run} of {budget.nodes} nodes"
    if budget.left_after(planned) > 0:
        return (
            f"{over}; once these are verified, a follow-up run restarts them, within the "
            f"hour's budget of {budget.per_hour} nodes ({budget.left_after(planned)} left)"
        )
    return (
        f"{over}; this hour's budget of {budget.per_hour} nodes is then spent: run the "
        "checklist again later"
    )


def _desired(observation: Observation) -> int:
    state = observation.kube_proxy
    if state is None or state.daemon_set is None:
        return 0
    return state.daemon_set.desired


def _manual(text: str, details: tuple[str, ...] = ()) -> Note:
    return Note(kind=NoteKind.MANUAL_ACTION, phase=Phase.MITIGATE, text=text, details=details)


def plan_fallback_access(
    observation: Observation, needs_approval: NeedsApproval
) -> tuple[tuple[CreateEmergencyNodePort, ...], tuple[Note, ...]]:
    """Offer NodePort access (and point at the pods) when pods are Ready but kube-proxy fails.

    The NodePort Service helps clients whose traffic lands on nodes where kube-proxy works;
    it is re-checked before creation and skipped once kube-proxy has recovered.
    """
    service = observation.service
    ready = observation.ready_pods
    if service is None or not service.selector or not ready:
        return (), ()
    if not kube_proxy_broken_somewhere(observation):
        return (), ()
    notes = [_direct_access(observation, ready)]
    if service.type in ("NodePort", "LoadBalancer"):
        ports = ", ".join(str(p.node_port) for p in service.ports if p.node_port)
        notes.append(_in_place(f"Service is already type {service.type}: node ports {ports}"))
        return (), tuple(notes)
    existing = observation.emergency_service
    if existing is not None:
        notes.append(_in_place(f"Emergency Service {existing.namespace}/{existing.name} exists"))
        return (), tuple(notes)
    action = CreateEmergencyNodePort(
        namespace=service.namespace,
        service=service.name,
        selector=service.selector,
        ports=service.ports,
        needs_approval=needs_approval(ActionKind.CREATE_EMERGENCY_NODEPORT),
    )
    return (action,), tuple(notes)


def _in_place(text: str) -> Note:
    return Note(kind=NoteKind.ALREADY_IN_PLACE, phase=Phase.MITIGATE, text=text)


def _direct_access(observation: Observation, ready: tuple[PodState, ...]) -> Note:
    service = observation.service
    ports = service.ports if service is not None else ()
    details = []
    for pod in ready:
        for port in ports:
            target = port.target_port
            if isinstance(target, str):
                named = next((p for p in pod.container_ports if p.name == target), None)
                target = named.number if named is not None else target
            details.append(f"{pod.name}: {pod.pod_ip}:{target}/{port.protocol}")
    return Note(
        kind=NoteKind.DIRECT_POD_ACCESS,
        phase=Phase.MITIGATE,
        text="If needed, reach the Ready pods directly (bypassing kube-proxy)",
        details=tuple(details),
    )


def plan_app_pod_restarts(
    observation: Observation, parameters: ChecklistParameters, *, needs_approval: NeedsApproval
) -> tuple[tuple[RestartAppPod, ...], tuple[Note, ...]]:
    """Restart not-Ready pods that a controller recreates, within the per-run budget."""
    pods = observation.pods
    troubled = [(p, t) for p in pods if (t := pod_trouble(p)) is not None]
    restartable = [p for p, t in troubled if t in RESTARTABLE_TROUBLES and p.owner_kind is not None]
    notes: list[Note] = []
    bare = [p.name for p, t in troubled if t in RESTARTABLE_TROUBLES and p.owner_kind is None]
    if bare:
        text = "Pods without a controller are not deleted (nothing would recreate them)"
        notes.append(_manual(text, tuple(bare)))
    stuck = [f"{p.name}: {t.value}" for p, t in troubled if t not in RESTARTABLE_TROUBLES]
    if stuck:
        text = "Pods a restart would not help (scheduling, image, termination)"
        notes.append(_manual(text, tuple(stuck)))
    budget = restart_budget(len(pods), parameters.app_pod_restart_budget_fraction)
    restartable.sort(key=lambda p: (-p.restart_count, p.name))
    if len(restartable) > budget:
        over = tuple(p.name for p in restartable[budget:])
        notes.append(
            Note(
                kind=NoteKind.DEFERRED,
                phase=Phase.MITIGATE,
                text=f"{len(over)} not-Ready pod(s) over the budget of {budget} of {len(pods)}",
                details=over,
            )
        )
    approval = needs_approval(ActionKind.RESTART_APP_POD)
    actions = tuple(
        RestartAppPod(
            namespace=p.namespace,
            pod=p.name,
            uid=p.uid,
            owner=f"{p.owner_kind}/{p.owner_name}",
            needs_approval=approval,
        )
        for p in restartable[:budget]
    )
    return actions, tuple(notes)
