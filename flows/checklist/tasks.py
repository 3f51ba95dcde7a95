"""The checklist's Prefect tasks: probes (never cached) and mutations (persisted, once per run).

Mutations persist their result under a key made of the flow run and the step, so a run that
re-runs from the top after an approval gets the first result back instead of acting again.
Every mutation re-checks, right before it acts, that the alert still fires and that a fresh
observation still calls for it. Only transient API errors are retried.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, assert_never
from uuid import UUID

from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect.client.orchestration import SyncPrefectClient, get_client
from prefect.context import FlowRunContext, TaskRunContext
from prefect.runtime import deployment, flow_run

from flows.checklist.act import apply_mutation, remove_emergency_service
from flows.checklist.act import wait_for_kube_proxy_replacements as wait_for_replacements
from flows.checklist.actions import CreateEmergencyNodePort, RestartKubeProxyPod
from flows.checklist.diagnosis import diagnose
from flows.checklist.findings import Finding
from flows.checklist.observe import Part, observe
from flows.checklist.parameters import ChecklistParameters
from flows.checklist.plan import Mutation, Plan, plan
from flows.checklist.probes import (
    CheckUnavailableError,
    StepFailedError,
    Waiting,
    verify_alert_resolved,
    verify_connectivity,
    verify_endpoints,
    verify_kube_proxy,
    verify_target_port,
)
from flows.checklist.recheck import Skip, recheck
from flows.checklist.record import ActionStatus
from flows.checklist.verification import (
    VerificationStep,
    VerifyAlertResolved,
    VerifyKubeProxyReady,
    VerifyServiceConnectivity,
    VerifyServiceEndpoints,
    VerifyTargetPort,
)
from flows.run_guard import ensure_run_active
from flows.run_identity import FOLLOW_UP_OF_TAG, follow_up_tags
from flows.runtime import AlertRef, AlertStatus, FlowRuntime, current_runtime
from flows.task_policy import (
    RETRIED_ON_TRANSIENT,
    run_scoped_key,
)
from runbooks.approval import ApprovalPolicy

NO_ALERTMANAGER = "unavailable: no Alertmanager URL configured (RUNBOOKS_ALERTMANAGER_URL)"


@dataclass(frozen=True, slots=True, kw_only=True)
class Assessment:
    """Minute 1's result: the findings and the plan (persisted: a re-run acts on this plan).

    Attributes:
        findings: The diagnosis.
        plan: The plan approved or not; re-runs after an approval reuse it unchanged.
        emergency_service: The Service's emergency NodePort Service, when one exists.
        observed_at: When the cluster was read.
    """

    findings: tuple[Finding, ...]
    plan: Plan
    emergency_service: str | None
    observed_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class StepResult:
    """The result of one step, as the report shows it.

    Attributes:
        status: Done, skipped (and why), failed, or dry run.
        detail: What was done or seen, or why not.
        finished_at: When the step ended.
        alert_resolved: The step was skipped because the alert resolved.
    """

    status: ActionStatus
    detail: str
    finished_at: datetime
    alert_resolved: bool = False


def _run_scoped(context: TaskRunContext, name: str) -> str:
    return run_scoped_key(context, name, flow="service-checklist")


def _assessment_key(context: TaskRunContext, parameters: dict[str, Any]) -> str:
    return _run_scoped(context, "assess-everywhere" if parameters.get("everywhere") else "assess")


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


def guarding_alert(parameters: ChecklistParameters) -> AlertRef | None:
    """The alert whose resolving stops the run's changes: its own, but none for a follow-up.

    A follow-up restarts the nodes its parent's budget deferred: its parent's alert (about
    the parent's node, already restarted) resolving says nothing about them, and each restart
    re-observes its pod first anyway.
    """
    return None if parameters.follow_up_of is not None else alert_of(parameters)


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
    **RETRIED_ON_TRANSIENT,
)
def assess(
    parameters: ChecklistParameters, policy: ApprovalPolicy, *, everywhere: bool = False
) -> Assessment:
    """Minute 1: observe, diagnose and plan (persisted, so re-runs act on the same plan).

    Scope: besides the cluster, how many other alerts of the run's alertname fire now.
    ``everywhere``: the run owns the kube-proxy incident, so kube-proxy is judged (and
    restarted) on every node, whatever the run's scope.
    """
    runtime = current_runtime()
    with runtime.kube_factory() as kube:
        observation = replace(observe(kube, parameters), kube_proxy_everywhere=everywhere)
    if parameters.alertname:
        others = runtime.alerts.firing_elsewhere(
            parameters.alertname, excluding=parameters.alert_fingerprint
        )
        if others is not None:
            observation = replace(
                observation,
                other_alerts_firing=others.count,
                other_alerts_confirmed=others.confirmed,
            )
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
    **RETRIED_ON_TRANSIENT,
)
def perform(
    action: Mutation, parameters: ChecklistParameters, *, others_firing: bool = False
) -> StepResult:
    """Re-check the alert and the cluster, then carry out `action` (at most once per run).

    ``others_firing``: other alerts the run answers for (its incident's) still fire, so its
    own alert resolving does not stop it.
    """
    runtime = current_runtime()
    alert = guarding_alert(parameters)
    resolved = alert is not None and runtime.alerts.status(alert) is AlertStatus.RESOLVED
    if resolved and not others_firing:
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
    **RETRIED_ON_TRANSIENT,
)
def await_kube_proxy(replaced: dict[str, str], timeout_seconds: float) -> str:
    """Wait until every node restarted runs a new, Ready kube-proxy pod."""
    runtime = current_runtime()
    with runtime.kube_factory() as kube:
        return wait_for_replacements(kube, replaced, waiting(runtime, timeout_seconds))


@task(
    name="verify-endpoints",
    cache_policy=NO_CACHE,
    **RETRIED_ON_TRANSIENT,
)
def check_endpoints(namespace: str, service: str, timeout_seconds: float) -> str:
    """Verify the Service has ready endpoints."""
    runtime = current_runtime()
    with runtime.kube_factory() as kube:
        return verify_endpoints(kube, namespace, service, waiting(runtime, timeout_seconds))


@task(
    name="verify-target-port",
    cache_policy=NO_CACHE,
    **RETRIED_ON_TRANSIENT,
)
def check_target_port(namespace: str, service: str, port: int, timeout_seconds: float) -> str:
    """Verify the Service port's targetPort names a port its pods declare."""
    runtime = current_runtime()
    with runtime.kube_factory() as kube:
        return verify_target_port(
            kube, namespace, service, port=port, waiting=waiting(runtime, timeout_seconds)
        )


@task(
    name="verify-connectivity",
    cache_policy=NO_CACHE,
    **RETRIED_ON_TRANSIENT,
)
def check_connectivity(namespace: str, service: str, port: int, timeout_seconds: float) -> str:
    """Verify a TCP connect to the Service's ClusterIP:port from a kube-proxy pod succeeds."""
    runtime = current_runtime()
    with runtime.kube_factory() as kube:
        return verify_connectivity(
            kube, namespace, service, port=port, waiting=waiting(runtime, timeout_seconds)
        )


@task(
    name="verify-kube-proxy",
    cache_policy=NO_CACHE,
    **RETRIED_ON_TRANSIENT,
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


def verify(step: VerificationStep, parameters: ChecklistParameters) -> StepResult:
    """Minute 5: run one verification step through its probe; one that does not pass FAILED,
    one this cluster cannot make SKIPPED (the detail says it was unavailable, and why)."""
    timeout = parameters.verify_timeout_seconds
    status = ActionStatus.DONE
    try:
        match step:
            case VerifyServiceEndpoints():
                detail = check_endpoints(step.namespace, step.service, timeout)
            case VerifyTargetPort():
                detail = check_target_port(step.namespace, step.service, step.port, timeout)
            case VerifyServiceConnectivity():
                detail = check_connectivity(step.namespace, step.service, step.port, timeout)
            case VerifyKubeProxyReady():
                detail = check_kube_proxy(step.nodes, timeout)
            case VerifyAlertResolved():
                alert = AlertRef(
                    fingerprint=step.fingerprint,
                    starts_at=parameters.alert_starts_at,
                    alertname=step.alertname,
                )
                seen = check_alert(alert, timeout)
                detail = NO_ALERTMANAGER if seen is None else seen
                status = ActionStatus.SKIPPED if seen is None else status
            case _:
                assert_never(step)
    except StepFailedError as error:
        status, detail = ActionStatus.FAILED, str(error)
    except CheckUnavailableError as error:
        status, detail = ActionStatus.SKIPPED, f"unavailable: {error}"
    return StepResult(status=status, detail=detail, finished_at=current_runtime().clock.now())


def _follow_up_key(context: TaskRunContext, parameters: dict[str, Any]) -> str:
    del parameters
    return _run_scoped(context, "follow-up")


@task(
    name="start-follow-up",
    persist_result=True,
    cache_key_fn=_follow_up_key,
    **RETRIED_ON_TRANSIENT,
)
def start_follow_up(parameters: dict[str, Any], *, parent: str) -> str:
    """Create a run of this run's own deployment to continue it (at most once per run).

    It carries this run's tags (the runbook's approval policy, the alert, the target its runs
    take turns on, the cooldown it holds) marked a follow-up of ``parent``; the engine's poller
    runs it once this run has ended. Returns its name and id, for the report.
    """
    deployment_id = deployment.id
    if deployment_id is None:
        raise StepFailedError("this run has no deployment to start a follow-up of")
    context = FlowRunContext.get()
    # The alert's labels, as the dispatcher set them: the follow-up's report names them too.
    labels = dict(context.flow_run.labels) if context and context.flow_run else {}
    client: SyncPrefectClient
    with get_client(sync_client=True) as client:
        created = client.create_flow_run_from_deployment(
            UUID(deployment_id),
            parameters=parameters,
            tags=follow_up_tags(flow_run.tags, of=parent),
            idempotency_key=f"{FOLLOW_UP_OF_TAG}{parent}",
            labels=labels,
        )
    return f"{created.name} ({created.id})"


@task(
    name="remove-emergency-service",
    cache_policy=NO_CACHE,
    **RETRIED_ON_TRANSIENT,
)
def remove_emergency(namespace: str, name: str) -> str:
    """Delete the emergency NodePort Service once its Service has recovered."""
    with current_runtime().kube_factory() as kube:
        return remove_emergency_service(kube, namespace, name)
