"""The rollback's Prefect tasks: the assessment and each template change persisted once per run.

A run re-runs from the top after its approval: the assessment and any change already made come
back from their persisted results, so the plan approved is the plan carried out, and nothing is
applied twice. The rollout watch is a probe (never cached). Only transient API errors are
retried.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect.context import TaskRunContext

from flows.rollback.backup import backup_markdown
from flows.rollback.plan import (
    NoRollback,
    RollbackPlan,
    current_template,
    plan_rollback,
    rollback_patch,
)
from flows.rollback.rollout import Progress, RolloutVerdict, judge_rollout
from flows.run_guard import ensure_run_active
from flows.run_record import StepStatus
from flows.runtime import current_runtime
from flows.task_policy import TASK_RETRIES, retry_on_transient, run_scoped_key
from integrations.kubernetes import NotFound, StrategicMergePatch

NAMESPACE = "kube-system"
DAEMON_SET = "kube-proxy"
POD_SELECTOR = {"k8s-app": "kube-proxy"}
FLOW_KEY = "kube-proxy-rollback"


@dataclass(frozen=True, slots=True)
class Assessment:
    """What the run found: the plan (or why none), and the backup taken before any change."""

    plan: RollbackPlan | NoRollback
    backup: str
    observed_at: datetime


@dataclass(frozen=True, slots=True)
class Change:
    """How a template change went: done, skipped (already so), or superseded (changed by others)."""

    status: StepStatus
    detail: str
    superseded: bool = False


def _assessment_key(context: TaskRunContext, parameters: dict[str, Any]) -> str:
    del parameters
    return run_scoped_key(context, "assess", flow=FLOW_KEY)


def _change_key(context: TaskRunContext, parameters: dict[str, Any]) -> str:
    return run_scoped_key(context, f"change/{parameters['step']}", flow=FLOW_KEY)


@task(
    name="assess-rollback",
    persist_result=True,
    cache_key_fn=_assessment_key,
    retries=TASK_RETRIES,
    retry_condition_fn=retry_on_transient,
)
def assess_rollback(to_revision: int | None) -> Assessment:
    """Read the DaemonSet, its revisions and ConfigMap; plan the rollback and back them up."""
    runtime = current_runtime()
    with runtime.kube_factory() as kube:
        daemon_set = kube.get_daemon_set(DAEMON_SET, NAMESPACE)
        revisions = kube.list_daemon_set_revisions(daemon_set)
        try:
            config_map = kube.get_config_map(DAEMON_SET, NAMESPACE).raw
        except NotFound:
            config_map = None
    plan = plan_rollback(daemon_set, revisions, to_revision=to_revision)
    newest = max((revision.revision for revision in revisions), default=0)
    now = runtime.clock.now()
    return Assessment(
        plan=plan,
        backup=backup_markdown(daemon_set.raw, config_map, revision=newest, taken_at=now),
        observed_at=now,
    )


@task(
    name="change-template",
    task_run_name="{step}",
    persist_result=True,
    cache_key_fn=_change_key,
    retries=TASK_RETRIES,
    retry_condition_fn=retry_on_transient,
)
def change_template(
    step: str, *, template: Mapping[str, Any], expected: Mapping[str, Any], label: str
) -> Change:
    """Make ``template`` the DaemonSet's pod template, if it still has the ``expected`` one.

    Args:
        step: The step's name (its persisted result's key): ``roll-back`` or ``restore``.
        template: The template to apply.
        expected: The template the DaemonSet must have now; anything else means someone else
            changed it since the plan, and nothing is done.
        label: The template in words, for the record (e.g. ``revision 3``).
    """
    with current_runtime().kube_factory() as kube:
        now = current_template(kube.get_daemon_set(DAEMON_SET, NAMESPACE))
        if now == template:
            return Change(StepStatus.SKIPPED, f"the DaemonSet already has the template of {label}")
        if now != expected:
            return Change(
                StepStatus.SKIPPED,
                "the DaemonSet's template changed since the plan (another rollout or rollback?); "
                "nothing applied",
                superseded=True,
            )
        ensure_run_active()
        patched = kube.patch_daemon_set(
            DAEMON_SET, NAMESPACE, StrategicMergePatch(rollback_patch(template))
        )
    return Change(
        StepStatus.DONE,
        f"spec.template set to {label} (generation {patched.meta.generation})",
    )


@task(
    name="watch-rollout",
    cache_policy=NO_CACHE,
    retries=TASK_RETRIES,
    retry_condition_fn=retry_on_transient,
)
def watch_rollout(images: tuple[str, ...], timeout_seconds: float) -> RolloutVerdict:
    """Follow the DaemonSet's rollout until it completes, gets stuck, or time runs out."""
    runtime = current_runtime()
    clock = runtime.clock
    deadline = clock.monotonic() + timeout_seconds
    with runtime.kube_factory() as kube:
        while True:
            daemon_set = kube.get_daemon_set(DAEMON_SET, NAMESPACE)
            pods = kube.list_pods(NAMESPACE, label_selector=POD_SELECTOR)
            verdict = judge_rollout(daemon_set, pods, images=images)
            if verdict.progress is not Progress.PROGRESSING:
                return verdict
            if clock.monotonic() >= deadline:
                return RolloutVerdict(
                    Progress.STUCK, f"not complete after {timeout_seconds:g}s: {verdict.detail}"
                )
            clock.sleep(runtime.poll_interval_seconds)
