"""The conntrack cleanup as a Prefect flow (deployment ``conntrack-cleanup``).

Started by hand (Prefect UI) or by the ``conntrack-cleanup`` runbook. It deletes only stale
entries, through the kube-proxy pod of each node (host network namespace): those a Service's
ClusterIP DNATed to a backend that is gone. The handbook's ``conntrack -F`` breaks every NATed
connection on the node; here it is a separate choice (``full_flush``) that always asks.
"""

from __future__ import annotations

from typing import Any

from prefect import flow
from prefect.client.schemas.objects import State
from prefect.runtime import flow_run

from flows.conntrack.conduct import CleanupRun
from flows.conntrack.parameters import CleanupParameters
from flows.forms import titled
from flows.policy import policy_for
from flows.runtime import current_runtime

FLOW_NAME = "conntrack-cleanup"
DEPLOYMENT_NAME = "conntrack-cleanup"
DEPLOYMENT_DESCRIPTION = (
    "Delete stale conntrack entries on every node through the kube-proxy pods: entries a "
    "Service's ClusterIP DNATed to a Pod IP that is no longer an endpoint (or the given gone "
    "pod_ip), counted before and after. full_flush (conntrack -F) always needs approval."
)


@titled(CleanupParameters)
@flow(name=FLOW_NAME, log_prints=False, validate_parameters=True)
def conntrack_cleanup(
    namespace: str | None = None,
    service: str | None = None,
    pod_ip: str | None = None,
    full_flush: bool = False,
    dry_run: bool = False,
    auto_approve: bool = False,
    approval_timeout_seconds: float | None = None,
) -> State[Any]:
    """Clean stale conntrack entries; the run's state names the outcome, its report the counts.

    Args:
        namespace: The Service's namespace (alone: every Service in it).
        service: Only this Service's stale entries (needs namespace).
        pod_ip: Only entries answered by this Pod IP, which no live pod may have.
        full_flush: conntrack -F on every node; breaks every NATed connection; always asks.
        dry_run: Plan only; delete nothing.
        auto_approve: A drill: approve automatically where the policy allows drills.
        approval_timeout_seconds: How long to wait for approval before rejecting; empty: the
            runbook's.
    """
    parameters = CleanupParameters(
        namespace=namespace,
        service=service,
        pod_ip=pod_ip,
        full_flush=full_flush,
        dry_run=dry_run,
        auto_approve=auto_approve,
        approval_timeout_seconds=approval_timeout_seconds,
    )
    _, policy = policy_for(flow_run.tags)
    run = CleanupRun(
        parameters, runtime=current_runtime(), policy=policy, flow_run_id=str(flow_run.get_id())
    )
    return run.execute()
