"""Product flows as Prefect deployments without a work pool: shown in the UI, run by the engine."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from prefect import Flow
from prefect.types.entrypoint import EntrypointType

from engine.parameter_check import ParameterCheck


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
    """Per deployment name, the check of its runs' parameters (`engine.parameter_check`)."""
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
    name keeps its id.

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
            cron=spec.cron,
            # `package.module.function` reads better in the UI than a cwd-relative file path.
            entrypoint_type=EntrypointType.MODULE_PATH,
        )
        ids[spec.full_name] = await deployment.aapply()
    return ids


def _reject_duplicates(specs: Sequence[DeploymentSpec]) -> None:
    names = [spec.full_name for spec in specs]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise DeploymentNameError(f"deployments named more than once: {', '.join(duplicates)}")
