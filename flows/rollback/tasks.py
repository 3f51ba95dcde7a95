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
from prefect.runtime import flow_run

from flows.rollback.act import Change, apply_template
from flows.rollback.backup import backup_markdown
from flows.rollback.history import TargetHistory, target_history
from flows.rollback.observe import observe_kube_proxy, observe_rollout
from flows.rollback.plan import NoRollback, RollbackPlan, plan_rollback
from flows.rollback.rollout import Progress, RolloutVerdict
from flows.runtime import current_runtime
from flows.task_policy import (
    RETRIED_ON_TRANSIENT,
    run_scoped_key,
)

FLOW_KEY = "kube-proxy-rollback"


@dataclass(frozen=True, slots=True)
class Assessment:
    """What the run found: the plan (or why none), what is known of the revision it goes to,
    and the backup taken before any change."""

    plan: RollbackPlan | NoRollback
    backup: str
    observed_at: datetime
    target: TargetHistory | None = None


def _assessment_key(context: TaskRunContext, parameters: dict[str, Any]) -> str:
    del parameters
    return run_scoped_key(context, "assess", flow=FLOW_KEY)


def _change_key(context: TaskRunContext, parameters: dict[str, Any]) -> str:
    return run_scoped_key(context, f"change/{parameters['step']}", flow=FLOW_KEY)


@task(
    name="assess-rollback",
    persist_result=True,
    cache_key_fn=_assessment_key,
    **RETRIED_ON_TRANSIENT,
)
def assess_rollback(to_revision: int | None) -> Assessment:
    """Read the DaemonSet, its revisions and ConfigMap; plan the rollback and back them up."""
    runtime = current_runtime()
    with runtime.kube_factory() as kube:
        found = observe_kube_proxy(kube)
    plan = plan_rollback(found.daemon_set, found.revisions, to_revision=to_revision)
    newest = max((revision.revision for revision in found.revisions), default=0)
    now = runtime.clock.now()
    target = None
    if isinstance(plan, RollbackPlan):
        revision = next(r for r in found.revisions if r.revision == plan.to_revision)
        target = target_history(revision, found.revisions, pods=found.pods, events=found.events)
    return Assessment(
        plan=plan,
        backup=backup_markdown(
            found.daemon_set.raw, found.config_map, revision=newest, taken_at=now
        ),
        observed_at=now,
        target=target,
    )


@task(
    name="change-template",
    task_run_name="{step}",
    persist_result=True,
    cache_key_fn=_change_key,
    **RETRIED_ON_TRANSIENT,
)
def change_template(
    step: str, *, template: Mapping[str, Any], expected: Mapping[str, Any], label: str
) -> Change:
    """Make ``template`` the DaemonSet's pod template, if it still has the ``expected`` one.

    Args:
        step: The step's name (its persisted result's key): ``roll-back`` or ``restore``.
        template: The template to apply.
        expected: The template the DaemonSet must have now (else nothing is done).
        label: The template in words, for the record (e.g. ``revision 3``).
    """
    with current_runtime().kube_factory() as kube:
        return apply_template(
            kube,
            template,
            expected=expected,
            label=label,
            applied_by=f"{flow_run.get_id()}/{step}",
        )


@task(
    name="watch-rollout",
    cache_policy=NO_CACHE,
    **RETRIED_ON_TRANSIENT,
)
def watch_rollout(images: tuple[str, ...], timeout_seconds: float) -> RolloutVerdict:
    """Follow the DaemonSet's rollout until it completes, gets stuck, or time runs out."""
    runtime = current_runtime()
    clock = runtime.clock
    deadline = clock.monotonic() + timeout_seconds
    with runtime.kube_factory() as kube:
        while True:
            verdict = observe_rollout(kube, images)
            if verdict.progress is not Progress.PROGRESSING:
                return verdict
            if clock.monotonic() >= deadline:
                return RolloutVerdict(
                    Progress.STUCK, f"not complete after {timeout_seconds:g}s: {verdict.detail}"
                )
            clock.sleep(runtime.poll_interval_seconds)
