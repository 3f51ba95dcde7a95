"""The kube-proxy rollback as a Prefect flow (deployment ``kube-proxy-rollback``).

Started by hand (Prefect UI) or by the ``kube-proxy-rollback`` runbook. It rolls the kube-proxy
DaemonSet back to its previous ControllerRevision as ``kubectl rollout undo`` does, after a
human approves the exact template change, keeps the DaemonSet and ConfigMap as a backup
artifact, watches the rollout, and restores the template it replaced if the new pods do not
become Ready.
"""

from __future__ import annotations

from typing import Any

from prefect import flow
from prefect.client.schemas.objects import State
from prefect.runtime import flow_run

from flows.forms import titled
from flows.policy import policy_for
from flows.rollback.conduct import RollbackRun
from flows.rollback.parameters import RollbackParameters
from flows.runtime import current_runtime

FLOW_NAME = "kube-proxy-rollback"
DEPLOYMENT_NAME = "kube-proxy-rollback"
DEPLOYMENT_DESCRIPTION = (
    "Roll the kube-proxy DaemonSet (kube-system) back to its previous ControllerRevision, or "
    "to_revision: backup artifact first, the exact template diff for approval, the rollout "
    "watched, and the replaced template restored if the new pods do not become Ready."
)


@titled(RollbackParameters)
@flow(name=FLOW_NAME, log_prints=False, validate_parameters=True)
def kube_proxy_rollback(
    to_revision: int | None = None,
    dry_run: bool = False,
    auto_approve: bool = False,
    approval_timeout_seconds: float | None = None,
    rollout_timeout_seconds: float = 300,
) -> State[Any]:
    """Roll kube-proxy back; the run's state names the outcome and its report says what happened.

    Args:
        to_revision: Revision to roll back to; empty: the one before the newest.
        dry_run: Plan and back up only; change nothing.
        auto_approve: A drill: approve automatically where the policy allows drills.
        approval_timeout_seconds: How long to wait for approval before rejecting; empty: the
            runbook's.
        rollout_timeout_seconds: How long the rollout may take before the rollback is undone.
    """
    parameters = RollbackParameters(
        to_revision=to_revision,
        dry_run=dry_run,
        auto_approve=auto_approve,
        approval_timeout_seconds=approval_timeout_seconds,
        rollout_timeout_seconds=rollout_timeout_seconds,
    )
    _, policy = policy_for(flow_run.tags)
    run = RollbackRun(
        parameters,
        runtime=current_runtime(),
        policy=policy,
        flow_run_id=str(flow_run.get_id()),
    )
    return run.execute()
