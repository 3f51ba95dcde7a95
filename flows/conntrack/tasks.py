"""The cleanup's Prefect tasks: the assessment, and each node's cleanup persisted once per run.

A run re-runs from the top after its approval: the assessment and the nodes already cleaned
come back from their persisted results, so the approved plan is the one carried out and no
node is cleaned twice. Before deleting, each node's task reads again whether the Pod IP is
still gone (IPs are reused) and how many entries match, and counts them again afterwards.
Only transient API errors are retried; a delete that matched nothing is a no-op.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from prefect import task
from prefect.context import TaskRunContext

from flows.conntrack.entries import (
    COUNT_COMMAND,
    FLUSH_COMMAND,
    Match,
    delete_command,
    list_command,
    parse_entries,
)
from flows.conntrack.observe import (
    EXEC_TIMEOUT_SECONDS,
    KUBE_SYSTEM,
    TargetNotFoundError,
    backends,
    observe,
)
from flows.conntrack.plan import CleanupPlan, Deletion, NoCleanup, Target, plan_cleanup
from flows.run_guard import ensure_run_active
from flows.runtime import current_runtime
from flows.task_policy import TASK_RETRIES, retry_on_transient, run_scoped_key
from integrations.kubernetes import Kube, PermanentKubeError

FLOW_KEY = "conntrack-cleanup"


@dataclass(frozen=True, slots=True)
class Assessment:
    """The plan (or why there is none) and when the cluster was read."""

    plan: CleanupPlan | NoCleanup
    observed_at: datetime


@dataclass(frozen=True, slots=True)
class NodeCleanup:
    """What one node's cleanup did: a line per deletion, and the entries left that match."""

    node: str
    lines: tuple[str, ...]
    deleted: int
    remaining: int


def _assessment_key(context: TaskRunContext, parameters: dict[str, Any]) -> str:
    del parameters
    return run_scoped_key(context, "assess", flow=FLOW_KEY)


def _node_key(context: TaskRunContext, parameters: dict[str, Any]) -> str:
    return run_scoped_key(context, f"clean/{parameters['node']}", flow=FLOW_KEY)


@task(
    name="assess-conntrack",
    persist_result=True,
    cache_key_fn=_assessment_key,
    retries=TASK_RETRIES,
    retry_condition_fn=retry_on_transient,
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
    retries=TASK_RETRIES,
    retry_condition_fn=retry_on_transient,
)
def clean_node(node: str, *, pod: str, deletions: tuple[Deletion, ...], flush: bool) -> NodeCleanup:
    """Delete the node's stale entries (or flush its table), counting before and after."""
    ensure_run_active()
    with current_runtime().kube_factory() as kube:
        if flush:
            return _flush(kube, node, pod)
        lines, deleted, remaining = [], 0, 0
        live = {p.pod_ip: p.meta.name for p in kube.list_pods() if p.pod_ip}
        for deletion in deletions:
            busy = _now_in_use(kube, deletion, live)
            if busy:
                lines.append(f"{_label(deletion)}: skipped, {busy}")
                continue
            before = _count(kube, pod, deletion.match)
            if before:
                _run(kube, pod, delete_command(deletion.match), ok=(0, 1))
            after = _count(kube, pod, deletion.match)
            deleted, remaining = deleted + before - after, remaining + after
            lines.append(f"{_label(deletion)}: {before} -> {after}")
    return NodeCleanup(node, tuple(lines), deleted, remaining)


def _label(deletion: Deletion) -> str:
    match = deletion.match
    via = f"{match.orig_dst} " if match.orig_dst else ""
    return f"{via}answered by {match.reply_src}"


def _now_in_use(kube: Kube, deletion: Deletion, live: dict[str, str]) -> str | None:
    ip = deletion.match.reply_src
    if ip in live:
        return f"{ip} now belongs to live pod {live[ip]}"
    if deletion.service is not None:
        namespace, name = deletion.service
        if ip in backends(kube, kube.get_service(name, namespace)).endpoint_ips:
            return f"{ip} is an endpoint of {namespace}/{name} again"
    return None


def _count(kube: Kube, pod: str, match: Match) -> int:
    listing = _run(kube, pod, list_command(*match.filters()), ok=(0,))
    return sum(1 for entry in parse_entries(listing) if match.selects(entry))


def _flush(kube: Kube, node: str, pod: str) -> NodeCleanup:
    before = int(_run(kube, pod, COUNT_COMMAND, ok=(0,)).strip() or 0)
    _run(kube, pod, FLUSH_COMMAND, ok=(0,))
    after = int(_run(kube, pod, COUNT_COMMAND, ok=(0,)).strip() or 0)
    return NodeCleanup(node, (f"whole table flushed: {before} -> {after}",), before - after, 0)


def _run(kube: Kube, pod: str, command: list[str], *, ok: tuple[int, ...]) -> str:
    result = kube.exec_in_pod(pod, KUBE_SYSTEM, command, timeout_seconds=EXEC_TIMEOUT_SECONDS)
    if result.exit_code not in ok:
        raise PermanentKubeError(
            f"`{' '.join(command)}` in {pod} exited {result.exit_code}: {result.stderr.strip()}"
        )
    return result.stdout
