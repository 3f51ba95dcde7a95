"""Registering product flows as deployments without a work pool, and their parameter names."""

from __future__ import annotations

from uuid import UUID

import pytest
from prefect.client.orchestration import PrefectClient

from engine.deployments import (
    SCHEDULE_SLUG,
    DeploymentNameError,
    DeploymentSpec,
    deployment_parameters,
    product_deployments,
    register_deployments,
)
from flows.run_identity import PRODUCT_TAG
from tests.engine.conftest import SAMPLE_SPECS
from tests.engine.sample_flows import record_flow


async def test_registered_deployments_are_named_flow_slash_deployment_and_have_no_work_pool(
    deployment_ids: dict[str, UUID], prefect_client: PrefectClient
) -> None:
    deployment = await prefect_client.read_deployment_by_name(
        "engine-test-record/engine-test-record"
    )

    assert deployment.id == deployment_ids["engine-test-record/engine-test-record"]
    assert deployment.work_pool_name is None
    assert deployment.description == "Records an execution (engine tests)."
    assert deployment.tags == ["engine-test"]
    assert deployment.parameters == {"note": "from the deployment"}
    assert deployment.entrypoint == "tests.engine.sample_flows.record_flow"


async def test_registering_again_keeps_the_same_ids(deployment_ids: dict[str, UUID]) -> None:
    assert await register_deployments(SAMPLE_SPECS) == deployment_ids


def test_deployment_parameters_are_read_from_the_flows_signatures() -> None:
    assert deployment_parameters(SAMPLE_SPECS) == {
        "engine-test-record/engine-test-record": frozenset({"marker", "note"}),
        "engine-test-record-async/engine-test-record-async": frozenset({"marker"}),
        "engine-test-gated/engine-test-gated": frozenset({"marker", "wait_seconds"}),
        "engine-test-suspending/engine-test-suspending": frozenset({"marker"}),
    }


@pytest.mark.parametrize("name", ["", "a/b"])
def test_a_deployment_name_must_be_non_empty_without_a_slash(name: str) -> None:
    with pytest.raises(DeploymentNameError):
        DeploymentSpec(flow=record_flow, name=name)


async def test_the_same_deployment_twice_is_refused_before_anything_is_registered() -> None:
    twice = [DeploymentSpec(flow=record_flow, name="x"), DeploymentSpec(flow=record_flow, name="x")]

    with pytest.raises(DeploymentNameError, match="engine-test-record/x"):
        await register_deployments(twice)


async def test_a_preventive_deployment_is_registered_with_its_schedule(
    prefect_client: PrefectClient, prefect_api_url: str
) -> None:
    spec = DeploymentSpec(flow=record_flow, name="engine-test-scheduled", cron="*/15 * * * *")

    ids = await register_deployments([spec])

    deployment = await prefect_client.read_deployment(ids[spec.full_name])
    [schedule] = deployment.schedules
    assert schedule.active
    assert getattr(schedule.schedule, "cron", None) == "*/15 * * * *"
    await prefect_client.delete_deployment(deployment.id)


async def test_registering_again_updates_the_schedule_in_place_so_its_runs_keep_their_keys(
    prefect_client: PrefectClient, prefect_api_url: str
) -> None:
    # Prefect's scheduler keys each run by the schedule's id: a schedule replaced at every
    # engine start would let a slot get a second run from the replaced schedule's last pass.
    spec = DeploymentSpec(flow=record_flow, name="engine-test-rescheduled", cron="0 3 * * *")
    ids = await register_deployments([spec])
    [first] = (await prefect_client.read_deployment(ids[spec.full_name])).schedules

    await register_deployments([spec])
    await register_deployments([spec])

    [again] = (await prefect_client.read_deployment(ids[spec.full_name])).schedules
    assert again.id == first.id
    assert again.slug == SCHEDULE_SLUG
    await prefect_client.delete_deployment(ids[spec.full_name])


async def test_the_registered_form_keeps_the_flows_titles_and_its_rules_between_fields(
    prefect_client: PrefectClient, prefect_api_url: str
) -> None:
    from flows.checklist.flow import DEPLOYMENT_NAME, service_checklist

    spec = DeploymentSpec(flow=service_checklist, name=DEPLOYMENT_NAME)

    ids = await register_deployments([spec])

    deployment = await prefect_client.read_deployment(ids[spec.full_name])
    schema = deployment.parameter_openapi_schema or {}
    assert schema["properties"]["scope"]["title"] == "Scope"
    assert "allOf" in schema
    await prefect_client.delete_deployment(deployment.id)


def test_the_preventive_deployments_are_scheduled_the_retention_daily_at_0330_utc() -> None:
    schedules = {spec.full_name: spec.cron for spec in product_deployments() if spec.cron}

    assert schedules == {
        "cluster-health-check/cluster-health-check": "*/15 * * * *",
        "config-backup/config-backup": "30 2 * * *",
        "service-report/service-report": "0 7 * * *",
        "prefect-retention/prefect-retention": "30 3 * * *",
    }


def test_every_product_deployment_carries_the_tag_the_retention_deletes_runs_of() -> None:
    specs = product_deployments()

    assert len(specs) == 7
    assert all(PRODUCT_TAG in spec.tags for spec in specs)
    assert {spec.full_name for spec in specs if "preventive" in spec.tags} == {
        "cluster-health-check/cluster-health-check",
        "config-backup/config-backup",
        "service-report/service-report",
        "prefect-retention/prefect-retention",
    }
