"""Product flows as Prefect deployments without a work pool: shown in the UI, run by the engine."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from prefect import Flow
from prefect.schedules import Cron, Schedule
from prefect.types.entrypoint import EntrypointType

from engine.dispatch.parameter_check import ParameterCheck
from flows.run_identity import PRODUCT_TAG

#: The preventive flows' schedules (UTC); the engine re-applies them at each start.
#: Each is kept under `SCHEDULE_SLUG`, so re-applying it updates the stored schedule in place
#: and keeps its id, which Prefect's scheduler builds its runs' idempotency keys from: replicas
#: applying it at every start cannot make a second schedule, or a second run of a slot.
SCHEDULE_SLUG = "engine"
HEALTH_CHECK_CRON = "*/15 * * * *"
BACKUP_CRON = "30 2 * * *"
REPORT_CRON = "0 7 * * *"
#: The retention flow's: once a day, at a quiet hour.
RETENTION_CRON = "30 3 * * *"


class DeploymentNameError(ValueError):
    """A deployment spec's name cannot be used (empty or containing '/')."""


@dataclass(frozen=True)
class DeploymentSpec:
    """One flow to publish as a deployment.

    Attributes:
        flow: The flow the deployment runs.
        name: The deployment's own name (the part after ``flow-name/``).
        description: Shown in the Prefect UI.
        tags: Tags the deployment (and so each of its runs) carries.
        parameters: Parameter defaults; a run's own parameters override them.
        cron: A schedule (UTC cron expression) for preventive flows; None: runs on demand.
    """

    flow: Flow[..., Any]
    name: str
    description: str = ""
    tags: tuple[str, ...] = ()
    parameters: Mapping[str, Any] = field(default_factory=dict)
    cron: str | None = None

    def __post_init__(self) -> None:
        if not self.name or "/" in self.name:
            raise DeploymentNameError(f"deployment name {self.name!r} must be non-empty, no '/'")

    @property
    def full_name(self) -> str:
        """``flow-name/deployment-name``, as Prefect and the runbooks name it."""
        return f"{self.flow.name}/{self.name}"


def deployment_parameters(specs: Sequence[DeploymentSpec]) -> dict[str, frozenset[str]]:
    """For each deployment name, the parameter names its flow accepts (for ``runbooks validate``).

    Read from the flow's parameter schema, i.e. its signature; no Prefect API is needed.
    """
    return {spec.full_name: frozenset(spec.flow.parameters.properties) for spec in specs}


def parameter_checks(specs: Sequence[DeploymentSpec]) -> dict[str, ParameterCheck]:
    """Per deployment name, the check of its runs' parameters (`dispatch.parameter_check`)."""
    return {
        spec.full_name: ParameterCheck(spec.flow.parameters.model_dump(), defaults=spec.parameters)
        for spec in specs
    }


def flows_by_deployment(
    specs: Sequence[DeploymentSpec], deployment_ids: Mapping[str, UUID]
) -> dict[UUID, Flow[..., Any]]:
    """Map each registered deployment's id to the flow the engine runs for it."""
    return {deployment_ids[spec.full_name]: spec.flow for spec in specs}


async def register_deployments(specs: Sequence[DeploymentSpec]) -> dict[str, UUID]:
    """Create or update a deployment per spec, without a work pool (as ``flow.serve`` does).

    Without a work pool no worker ever picks the runs up: the engine's executor runs them, and
    operators see (and can start) them in the Prefect UI. Applying again is idempotent: the same
    name keeps its id, and its schedule its own (`SCHEDULE_SLUG`), also when replicas apply it
    at the same moment.

    Returns:
        Deployment ids by ``flow-name/deployment-name``.
    """
    _reject_duplicates(specs)
    ids: dict[str, UUID] = {}
    for spec in specs:
        deployment = await spec.flow.ato_deployment(
            name=spec.name,
            description=spec.description or None,
            tags=list(spec.tags),
            parameters=dict(spec.parameters),
            schedule=_schedule(spec.cron),
            # `package.module.function` reads better in the UI than a cwd-relative file path.
            entrypoint_type=EntrypointType.MODULE_PATH,
        )
        # Prefect rebuilds the schema from the function's signature, dropping what the flow's
        # own schema adds (human titles, rules between fields) that the UI form should show.
        deployment._parameter_openapi_schema = spec.flow.parameters.model_copy(deep=True)
        ids[spec.full_name] = await deployment.aapply()
    return ids


def _schedule(cron: str | None) -> Schedule | None:
    return Cron(cron, timezone="UTC", slug=SCHEDULE_SLUG) if cron else None


def _reject_duplicates(specs: Sequence[DeploymentSpec]) -> None:
    names = [spec.full_name for spec in specs]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise DeploymentNameError(f"deployments named more than once: {', '.join(duplicates)}")


def product_deployments() -> tuple[DeploymentSpec, ...]:
    """Every deployment the engine serves (the runbook catalog refers to them by name).

    Each carries `PRODUCT_TAG`: the retention flow deletes old runs of these deployments only.
    """
    from flows.checklist import flow as checklist
    from flows.conntrack import flow as conntrack
    from flows.maintenance import flow as maintenance
    from flows.rollback import flow as rollback

    return (
        DeploymentSpec(
            flow=checklist.service_checklist,
            name=checklist.DEPLOYMENT_NAME,
            description=checklist.DEPLOYMENT_DESCRIPTION,
            tags=(PRODUCT_TAG,),
        ),
        DeploymentSpec(
            flow=rollback.kube_proxy_rollback,
            name=rollback.DEPLOYMENT_NAME,
            description=rollback.DEPLOYMENT_DESCRIPTION,
            tags=(PRODUCT_TAG,),
        ),
        DeploymentSpec(
            flow=conntrack.conntrack_cleanup,
            name=conntrack.DEPLOYMENT_NAME,
            description=conntrack.DEPLOYMENT_DESCRIPTION,
            tags=(PRODUCT_TAG,),
        ),
        DeploymentSpec(
            flow=maintenance.cluster_health_check,
            name=maintenance.HEALTH_CHECK,
            description="The handbook's health check, every 15 minutes.",
            tags=(PRODUCT_TAG, "preventive"),
            cron=HEALTH_CHECK_CRON,
        ),
        DeploymentSpec(
            flow=maintenance.config_backup,
            name=maintenance.CONFIG_BACKUP,
            description="Services, Endpoints, kube-proxy DaemonSet and ConfigMap as YAML, daily.",
            tags=(PRODUCT_TAG, "preventive"),
            cron=BACKUP_CRON,
        ),
        DeploymentSpec(
            flow=maintenance.service_report,
            name=maintenance.SERVICE_REPORT,
            description="Service count, Services without endpoints, kube-proxy pods; daily.",
            tags=(PRODUCT_TAG, "preventive"),
            cron=REPORT_CRON,
        ),
        DeploymentSpec(
            flow=maintenance.prefect_retention,
            name=maintenance.RETENTION,
            description=(
                "Daily: deletes finished runs, alert-resolution records and stale incident "
                "markers older than RUNBOOKS_RETENTION_DAYS (30); keeps each run's report."
            ),
            tags=(PRODUCT_TAG, "preventive"),
            cron=RETENTION_CRON,
        ),
    )
