"""The cleanup's Prefect tasks: the assessment, and each node's cleanup persisted once per run.

A run re-runs from the top after its approval: the assessment and the nodes already cleaned
come back from their persisted results, so the approved plan is the one carried out and no
node is cleaned twice. Only transient API errors are retried.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from prefect import task
from prefect.context import TaskRunContext

from flows.conntrack.act import NodeCleanup, clean
from flows.conntrack.observe import TargetNotFoundError, observe
from flows.conntrack.plan import CleanupPlan, Deletion, NoCleanup, Target, plan_cleanup
from flows.run_guard import ensure_run_active
from flows.runtime import current_runtime
from flows.task_policy import (
    RETRIED_ON_TRANSIENT,
    run_scoped_key,
)

FLOW_KEY = "conntrack-cleanup"


@dataclass(frozen=True, slots=True)
class Assessment:
    """The plan (or why there is none) and when the cluster was read."""

    plan: CleanupPlan | NoCleanup
    observed_at: datetime


def _assessment_key(context: TaskRunContext, parameters: dict[str, Any]) -> str:
    del parameters
    return run_scoped_key(context, "assess", flow=FLOW_KEY)


def _node_key(context: TaskRunContext, parameters: dict[str, Any]) -> str:
    return run_scoped_key(context, f"clean/{parameters['node']}", flow=FLOW_KEY)


@task(
    name="assess-conntrack",
    persist_result=True,
    cache_key_fn=_assessment_key,
    **RETRIED_ON_TRANSIENT,
)
def assess_cleanup(target: Target) -> Assessment:
    """Read the cluster and every node's matching entries; plan the cleanup."""
    runtime = current_runtime()
    with runtime.kube_factory() as kube:
        try:
            plan: CleanupPlan | NoCleanup = plan_cleanup(target, observe(kube, target))
        except TargetNotFoundError as error:
            plan = NoCleanup(str(error))
    return Assessment(plan=plan, observed_at=runtime.clock.now())


@task(
    name="clean-node",
    task_run_name="clean {node}",
    persist_result=True,
    cache_key_fn=_node_key,
    **RETRIED_ON_TRANSIENT,
)
def clean_node(node: str, *, pod: str, deletions: tuple[Deletion, ...], flush: bool) -> NodeCleanup:
    """Delete the node's stale entries (or flush its table), counting before and after."""
    ensure_run_active()
    with current_runtime().kube_factory() as kube:
        return clean(kube, node, pod=pod, deletions=deletions, flush=flush)
