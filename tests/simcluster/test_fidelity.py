"""Every object of a seeded cluster is valid Kubernetes 1.30 and loads into the client's models."""

from __future__ import annotations

import json

import kubernetes_validate
import pytest
from kubernetes.client import ApiClient

from simcluster import resources
from simcluster.clock import FakeClock
from simcluster.scenarios import SCENARIOS, build_cluster


def _model(kind: str) -> str:
    return "CoreV1Event" if kind == "Event" else f"V1{kind}"


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_every_object_is_valid_and_deserializes(scenario: str) -> None:
    cluster = build_cluster(nodes=3, scenario=scenario, clock=FakeClock())
    client = ApiClient()
    checked = 0
    for rt in resources.ALL:
        for obj in cluster.store.list_objects(rt):
            kubernetes_validate.validate(obj, "1.30", strict=True)
            model = client.deserialize(json.dumps(obj), _model(rt.kind), "application/json")
            assert model.metadata.name == obj["metadata"]["name"]
            checked += 1
    assert checked > 50


def test_the_validator_rejects_a_wrongly_typed_field() -> None:
    revision = {
        "apiVersion": "apps/v1",
        "kind": "ControllerRevision",
        "metadata": {"name": "x"},
        "revision": "1",
    }
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(revision, "1.30", strict=True)
