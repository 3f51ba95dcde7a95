"""The product's flows, as the deployments the engine publishes and runs."""

from __future__ import annotations

from engine.deployments import DeploymentSpec


def product_deployments() -> tuple[DeploymentSpec, ...]:
    """Every deployment the engine serves (the runbook catalog refers to them by name)."""
    from flows.checklist import flow as checklist
    from flows.conntrack import flow as conntrack
    from flows.rollback import flow as rollback

    return (
        DeploymentSpec(
            flow=checklist.service_checklist,
            name=checklist.DEPLOYMENT_NAME,
            description=checklist.DEPLOYMENT_DESCRIPTION,
            tags=("service-runbooks",),
        ),
        DeploymentSpec(
            flow=rollback.kube_proxy_rollback,
            name=rollback.DEPLOYMENT_NAME,
            description=rollback.DEPLOYMENT_DESCRIPTION,
            tags=("service-runbooks",),
        ),
        DeploymentSpec(
            flow=conntrack.conntrack_cleanup,
            name=conntrack.DEPLOYMENT_NAME,
            description=conntrack.DEPLOYMENT_DESCRIPTION,
            tags=("service-runbooks",),
        ),
    )
