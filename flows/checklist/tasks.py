"""The checklist's Prefect tasks: probes (never cached) and mutations (persisted, once per run).

Mutations persist their result under a key made of the flow run and the step, so a run that
re-runs from the top after an approval gets the first result back instead of acting again.
Every mutation re-checks, right before it acts, that the alert still fires and that a fresh
observation still calls for it. Only transient API errors are retried.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect.context import TaskRunContext

from flows.checklist.actions import CreateEmergencyNodePort, RestartKubeProxyPod
from flows.checklist.diagnosis import diagnose
from flows.checklist.parameters import ChecklistParameters
from flows.checklist.planning import plan
from flows.checklist.plans import Mutation
from flows.checklist.recheck import Skip, recheck
from flows.checklist.record import ActionStatus
from flows.checklist.steps.act import Waiting, apply_mutation, remove_emergency_service
from flows.checklist.steps.act import wait_for_kube_proxy_replacements as wait_for_replacements
from flows.checklist.steps.observe import Part, observe
from flows.checklist.steps.results import Assessment, StepResult
from flows.checklist.steps.verify import (
    verify_alert_resolved,
    verify_endpoints,
    verify_kube_proxy,
)
from flows.run_guard import ensure_run_active
from flows.runtime import AlertRef, AlertStatus, FlowRuntime, current_runtime
from flows.task_policy import TASK_RETRIES, retry_on_transient, run_scoped_key
from runbooks.approval import ApprovalPolicy


def _run_scoped(context: TaskRunContext, name: str) -> str:
    return run_scoped_key(context, name, flow="service-checklist")


def _assessment_key(context: TaskRunContext, parameters: dict[str, Any]) -> str:
    del parameters
    return _run_scoped(context, "assess")


def _mutation_key(context: TaskRunContext, parameters: dict[str, Any]) -> str:
    action: Mutation = parameters["action"]
    return _run_scoped(context, f"perform/{action.key}")


def alert_of(parameters: ChecklistParameters) -> AlertRef | None:
    """The alert episode the run is about, if an alert started it."""
    if parameters.alert_fingerprint is None:
        return None
    return AlertRef(
        fingerprint=parameters.alert_fingerprint,
        starts_at=parameters.alert_starts_at,
        alertname=parameters.alertname,
    )


def waiting(runtime: FlowRuntime, timeout_seconds: float) -> Waiting:
    """How the steps wait, on the runtime's clock."""
    clock = runtime.clock
    return Waiting(
        timeout_seconds=timeout_seconds,
        poll_seconds=runtime.poll_interval_seconds,
        monotonic=clock.monotonic,
        sleep=clock.sleep,
    )


@task(
    name="assess",
    persist_result=True,
    cache_key_fn=_assessment_key,
    retries=TASK_RETRIES,
    retry_condition_fn=retry_on_transient,
)
def assess(parameters: ChecklistParameters, policy: ApprovalPolicy) -> Assessment:
    """Minute 1: observe, diagnose and plan (persisted, so re-runs act on the same plan).

    Scope: besides the cluster, how many other alerts of the run's alertname fire now.
    """
    runtime = current_runtime()
    with runtime.kube_factory() as kube:
        observation = observe(kube, parameters)
    if parameters.alertname:
        others = runtime.alerts.count_firing(
            parameters.alertname, excluding=parameters.alert_fingerprint
        )
        observation = replace(observation, other_alerts_firing=others)
    findings = diagnose(observation)
    emergency = observation.emergency_service
    return Assessment(
        findings=findings,
        plan=plan(findings, observation, parameters, policy),
        emergency_service=emergency.name if emergency else None,
        observed_at=runtime.clock.now(),
    )


def _recheck_scope(action: Mutation) -> tuple[Part, frozenset[str]]:
    if isinstance(action, RestartKubeProxyPod):
        return Part.KUBE_PROXY | Part.NODES, frozenset({action.node})
    if isinstance(action, CreateEmergencyNodePort):
        return Part.ALL, frozenset()
    return Part.SERVICE, frozenset()


@task(
    name="perform",
    task_run_name="perform {action.key}",
    persist_result=True,
    cache_key_fn=_mutation_key,
    retries=TASK_RETRIES,
    retry_condition_fn=retry_on_transient,
)
def perform(action: Mutation, parameters: ChecklistParameters) -> StepResult:
    """Re-check the alert and the cluster, then carry out `action` (at most once per run)."""
    runtime = current_runtime()
    alert = alert_of(parameters)
    if alert is not None and runtime.alerts.status(alert) is AlertStatus.RESOLVED:
        return StepResult(
            status=ActionStatus.SKIPPED,
            detail="the alert no longer fires",
            finished_at=runtime.clock.now(),
            alert_resolved=True,
        )
    parts, log_nodes = _recheck_scope(action)
    with runtime.kube_factory() as kube:
        verdict = recheck(action, observe(kube, parameters, parts=parts, log_nodes=log_nodes))
        if isinstance(verdict, Skip):
            return StepResult(
                status=ActionStatus.SKIPPED, detail=verdict.reason, finished_at=runtime.clock.now()
            )
        ensure_run_active()
        detail = apply_mutation(kube, action)
    return StepResult(status=ActionStatus.DONE, detail=detail, finished_at=runtime.clock.now())


@task(
    name="wait-for-kube-proxy",
    cache_policy=NO_CACHE,
    retries=TASK_RETRIES,
    retry_condition_fn=retry_on_transient,
)
def await_kube_proxy(replaced: dict[str, str], timeout_seconds: float) -> str:
    """Wait until every node restarted runs a new, Ready kube-proxy pod."""
    runtime = current_runtime()
    with runtime.kube_factory() as kube:
        return wait_for_replacements(kube, replaced, waiting(runtime, timeout_seconds))


@task(
    name="verify-endpoints",
    cache_policy=NO_CACHE,
    retries=TASK_RETRIES,
    retry_condition_fn=retry_on_transient,
)
def check_endpoints(namespace: str, service: str, timeout_seconds: float) -> str:
    """Verify the Service has ready endpoints."""
    runtime = current_runtime()
    with runtime.kube_factory() as kube:
        return verify_endpoints(kube, namespace, service, waiting(runtime, timeout_seconds))


@task(
    name="verify-kube-proxy",
    cache_policy=NO_CACHE,
    retries=TASK_RETRIES,
    retry_condition_fn=retry_on_transient,
)
def check_kube_proxy(restarted: tuple[str, ...], timeout_seconds: float) -> str:
    """Verify kube-proxy is Ready on every node (and error-free where restarted)."""
    runtime = current_runtime()
    with runtime.kube_factory() as kube:
        return verify_kube_proxy(kube, restarted, waiting(runtime, timeout_seconds))


@task(name="verify-alert", cache_policy=NO_CACHE)
def check_alert(alert: AlertRef, timeout_seconds: float) -> str | None:
    """Verify Alertmanager no longer lists the alert; None when no Alertmanager is configured."""
    runtime = current_runtime()
    if runtime.alerts.alertmanager is None:
        return None
    return verify_alert_resolved(
        runtime.alerts.alertmanager, alert, waiting(runtime, timeout_seconds)
    )


@task(name="alert-status", cache_policy=NO_CACHE)
def alert_status(alert: AlertRef) -> AlertStatus:
    """Whether the alert still fires, per the receiver's record and Alertmanager."""
    return current_runtime().alerts.status(alert)


@task(
    name="remove-emergency-service",
    cache_policy=NO_CACHE,
    retries=TASK_RETRIES,
    retry_condition_fn=retry_on_transient,
)
def remove_emergency(namespace: str, name: str) -> str:
    """Delete the emergency NodePort Service once its Service has recovered."""
    with current_runtime().kube_factory() as kube:
        return remove_emergency_service(kube, namespace, name)
