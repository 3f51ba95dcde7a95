"""The five-minute emergency checklist as a Prefect flow (deployment ``service-checklist``).

Its parameters are `ChecklistParameters`' fields, flat, so runbooks pass ``scope``,
``namespace``, ``service``, ``instance`` as they are and the Prefect UI shows a form with the
model's descriptions. The approval policy is the runbook's (from the run's ``runbook:`` tag);
a run started by hand gets `flows.policy.MANUAL_POLICY`. The engine builds the deployment from
`DEPLOYMENT_NAME`/`DEPLOYMENT_DESCRIPTION` (``engine.deployments.DeploymentSpec``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from prefect import flow
from prefect.client.schemas.objects import State
from prefect.context import FlowRunContext
from prefect.runtime import flow_run

from flows.checklist.conduct import ChecklistRun
from flows.checklist.parameters import ChecklistParameters, Scope
from flows.forms import titled
from flows.policy import policy_for
from flows.run_identity import alert_labels_of
from flows.runtime import current_runtime
from flows.schema_rules import with_rules

FLOW_NAME = "service-checklist"
DEPLOYMENT_NAME = "service-checklist"
DEPLOYMENT_DESCRIPTION = (
    "The five-minute emergency checklist for a failing Service, node or cluster: scope, "
    "mitigate (kube-proxy restarts, emergency NodePort, pod restarts), fix (proposed Service "
    "patches), verify. Mutations wait for approval as the runbook's policy says; the report "
    "is the run's markdown artifact."
)


def _describe_parameters(function: Any) -> Any:
    """Append to the flow's docstring the model's field descriptions (the UI form shows them)."""
    lines = [
        function.__doc__ or "",
        "",
        "Args:",
        *(
            f"    {name}: {field.description or ''}"
            for name, field in ChecklistParameters.model_fields.items()
        ),
    ]
    function.__doc__ = "\n".join(lines)
    return function


@with_rules(ChecklistParameters)
@titled(ChecklistParameters)
@flow(name=FLOW_NAME, log_prints=False, validate_parameters=True)
@_describe_parameters
def service_checklist(
    scope: Scope,
    namespace: str | None = None,
    service: str | None = None,
    instance: str | None = None,
    dry_run: bool = False,
    auto_approve: bool = False,
    kube_proxy_restart_parallelism: int = 1,
    kube_proxy_restart_budget_fraction: float = 0.2,
    kube_proxy_restart_hourly_budget_fraction: float = 0.6,
    app_pod_restart_budget_fraction: float = 0.5,
    approval_timeout_seconds: float | None = None,
    verify_timeout_seconds: float = 60,
    alert_fingerprint: str | None = None,
    alert_starts_at: datetime | None = None,
    alertname: str | None = None,
    follow_up_of: str | None = None,
    restarted_this_hour: int = 0,
    hour_started_at: datetime | None = None,
) -> State[Any]:
    """Run the five-minute emergency checklist; the run's state names its outcome."""
    parameters = ChecklistParameters(
        scope=scope,
        namespace=namespace,
        service=service,
        instance=instance,
        dry_run=dry_run,
        auto_approve=auto_approve,
        kube_proxy_restart_parallelism=kube_proxy_restart_parallelism,
        kube_proxy_restart_budget_fraction=kube_proxy_restart_budget_fraction,
        kube_proxy_restart_hourly_budget_fraction=kube_proxy_restart_hourly_budget_fraction,
        app_pod_restart_budget_fraction=app_pod_restart_budget_fraction,
        approval_timeout_seconds=approval_timeout_seconds,
        verify_timeout_seconds=verify_timeout_seconds,
        alert_fingerprint=alert_fingerprint,
        alert_starts_at=alert_starts_at,
        alertname=alertname,
        follow_up_of=follow_up_of,
        restarted_this_hour=restarted_this_hour,
        hour_started_at=hour_started_at,
    )
    runbook, policy = policy_for(flow_run.tags)
    context = FlowRunContext.get()
    # The dispatcher keeps the alert's labels on the run; a run started by hand has none.
    labels = context.flow_run.labels if context and context.flow_run else {}
    run = ChecklistRun(
        parameters,
        runtime=current_runtime(),
        policy=policy,
        runbook=runbook,
        flow_run_id=str(flow_run.get_id()),
        alert_labels=alert_labels_of(labels),
    )
    return run.execute()
