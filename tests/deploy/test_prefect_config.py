"""deploy/prefect/prefect.yaml names the same deployments the engine registers, with real flows."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import yaml
from prefect import Flow

from engine.deployments import product_deployments

PREFECT_YAML = Path(__file__).parents[2] / "deploy" / "prefect" / "prefect.yaml"


def _deployments() -> list[dict[str, Any]]:
    document = yaml.safe_load(PREFECT_YAML.read_text())
    return list(document["deployments"])


def _load_flow(entrypoint: str) -> Flow[..., Any]:
    path, _, attribute = entrypoint.partition(":")
    spec = importlib.util.spec_from_file_location(
        "entrypoint_module", PREFECT_YAML.parents[2] / path
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    flow = getattr(module, attribute)
    assert isinstance(flow, Flow)
    return flow


def test_worker_deployments_are_the_ones_the_engine_registers() -> None:
    declared = {f"{_load_flow(d['entrypoint']).name}/{d['name']}" for d in _deployments()}
    assert declared == {spec.full_name for spec in product_deployments()}


def test_every_worker_deployment_targets_the_product_work_pool() -> None:
    assert {d["work_pool"]["name"] for d in _deployments()} == {"service-runbooks"}


def test_worker_deployments_keep_the_engines_schedules() -> None:
    declared = {
        f"{_load_flow(d['entrypoint']).name}/{d['name']}": [
            s["cron"] for s in d.get("schedules", [])
        ]
        for d in _deployments()
    }
    registered = {
        spec.full_name: [spec.cron] if spec.cron else [] for spec in product_deployments()
    }
    assert declared == registered
