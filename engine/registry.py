"""The product's flows, as the deployments the engine publishes and runs."""

from __future__ import annotations

from engine.deployments import DeploymentSpec

HEALTH_CHECK_CRON = "*/15 * * * *"
BACKUP_CRON = "30 2 * * *"
REPORT_CRON = "0 7 * * *"


def product_deployments() -> tuple[DeploymentSpec, ...]:
    """Every deployment the engine serves (the runbook catalog refers to them by name)."""
    from flows.checklist import flow as checklist
    from flows.conntrack import flow as conntrack
    from flows.maintenance import flows as maintenance
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
        DeploymentSpec(
            flow=maintenance.cluster_health_check,
            name=maintenance.HEALTH_CHECK,
            description="The handbook's health check, every 15 minutes.",
            tags=("service-runbooks", "preventive"),
            cron=HEALTH_CHECK_CRON,
        ),
        DeploymentSpec(
            flow=maintenance.config_backup,
            name=maintenance.CONFIG_BACKUP,
            description="Services, Endpoints, kube-proxy DaemonSet and ConfigMap as YAML, daily.",
            tags=("service-runbooks", "preventive"),
            cron=BACKUP_CRON,
        ),
        DeploymentSpec(
            flow=maintenance.service_report,
            name=maintenance.SERVICE_REPORT,
            description="Service count, Services without endpoints, kube-proxy pods; daily.",
            tags=("service-runbooks", "preventive"),
            cron=REPORT_CRON,
        ),
    )
