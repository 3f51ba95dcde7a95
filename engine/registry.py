"""The product's flows, as the deployments the engine publishes and runs."""

from __future__ import annotations

from engine.deployments import DeploymentSpec


def product_deployments() -> tuple[DeploymentSpec, ...]:
    """Every deployment the engine serves (the runbook catalog refers to them by name)."""
    from flows.checklist.flow import DEPLOYMENT_DESCRIPTION, DEPLOYMENT_NAME, service_checklist

    return (
        DeploymentSpec(
            flow=service_checklist,
            name=DEPLOYMENT_NAME,
            description=DEPLOYMENT_DESCRIPTION,
            tags=("service-runbooks",),
        ),
    )
