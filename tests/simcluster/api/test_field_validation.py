"""Unknown fields are found against Kubernetes' schemas and refused, warned of or ignored."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from simcluster import resources
from simcluster.api.field_validation import unknown_fields
from simcluster.clock import FakeClock
from simcluster.scenarios import build_cluster
from simcluster.server import SimServer
from tests.simcluster.api import manifests

ADMIN = {"Authorization": "Bearer sim-admin-token"}
EVERY_KIND = Path(__file__).resolve().parents[1] / "fixtures" / "every-kind" / "objects.yaml"
SERVICES = "/api/v1/namespaces/default/services"


def deployment(**container: Any) -> dict[str, Any]:
    labels = {"app": "web"}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "labels": labels, "annotations": {"any/key": "v"}},
        "spec": {
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": "web", "image": "web:1", **container}]},
            },
        },
    }


def servicemonitor(**metadata: Any) -> dict[str, Any]:
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "ServiceMonitor",
        "metadata": {"name": "web", **metadata},
        "spec": {"anything": {"the": ["operator", "decides"]}},
    }


@pytest.mark.parametrize(
    ("rt", "obj", "unknown"),
    [
        (resources.DEPLOYMENTS, deployment(ports=[{"containerPort": 80}]), []),
        (
            resources.DEPLOYMENTS,
            deployment(imagePullPolicyy="Always"),
            ["spec.template.spec.containers[0].imagePullPolicyy"],
        ),
        (resources.DEPLOYMENTS, {**deployment(), "status": {"replicas": 1}}, []),
        (resources.SERVICES, manifests.service("web", selector={"app": "web"}), []),
        (
            resources.SERVICES,
            {"metadata": {"name": "web", "lables": {}}, "spec": {"selectr": {}}},
            ["metadata.lables", "spec.selectr"],
        ),
        (resources.SECRETS, {"metadata": {"name": "s"}, "stringData": {"k": "v"}}, []),
        (resources.SERVICEMONITORS, servicemonitor(), []),
        (resources.SERVICEMONITORS, servicemonitor(lables={}), ["metadata.lables"]),
    ],
    ids=[
        "deployment",
        "container-typo",
        "status",
        "service",
        "metadata-and-spec-typos",
        "secret-string-data",
        "custom-resource",
        "custom-resource-metadata-typo",
    ],
)
def test_unknown_fields_are_named_by_their_path(
    rt: resources.ResourceType, obj: dict[str, Any], unknown: list[str]
) -> None:
    assert unknown_fields(rt, obj) == unknown


def test_no_seeded_object_nor_fixture_object_has_an_unknown_field() -> None:
    cluster = build_cluster(nodes=2, clock=FakeClock())
    objects = [obj for rt in resources.ALL for obj in cluster.store.list_objects(rt)] + [
        doc for doc in yaml.safe_load_all(EVERY_KIND.read_text()) if doc
    ]

    found = {
        obj["metadata"]["name"]: unknown
        for obj in objects
        if (unknown := unknown_fields(resources.resource_for_kind(obj["kind"]), obj))
    }

    assert found == {}


TYPO = {"metadata": {"name": "web"}, "spec": {"selectr": {"app": "web"}, "ports": [{"port": 80}]}}


@pytest.mark.parametrize(
    ("query", "status", "warning"),
    [
        ("?fieldValidation=Strict", 400, None),
        ("?fieldValidation=Warn", 201, '299 - "unknown field \\"spec.selectr\\""'),
        ("", 201, '299 - "unknown field \\"spec.selectr\\""'),
        ("?fieldValidation=Ignore", 201, None),
        ("?fieldValidation=Loose", 400, None),
    ],
    ids=["strict", "warn", "default-warn", "ignore", "unsupported"],
)
def test_a_write_with_an_unknown_field_is_answered_as_asked(
    server: SimServer, query: str, status: int, warning: str | None
) -> None:
    answer = httpx.post(server.url + SERVICES + query, json=TYPO, headers=ADMIN)

    assert answer.status_code == status
    assert answer.headers.get("warning") == warning


def test_a_strict_create_is_refused_in_the_decoders_words(server: SimServer) -> None:
    answer = httpx.post(server.url + SERVICES + "?fieldValidation=Strict", json=TYPO, headers=ADMIN)

    assert answer.json()["message"] == (
        'Service in version "v1" cannot be handled as a Service: strict decoding error: '
        'unknown field "spec.selectr"'
    )


def test_a_strict_patch_is_refused_and_changes_nothing(server: SimServer) -> None:
    created = manifests.service("web", selector={"app": "web"})
    httpx.post(server.url + SERVICES, json=created, headers=ADMIN).raise_for_status()

    answer = httpx.patch(
        server.url + SERVICES + "/web?fieldValidation=Strict",
        json={"spec": {"selectr": {"app": "api"}}},
        headers={**ADMIN, "Content-Type": "application/strategic-merge-patch+json"},
    )

    assert answer.status_code == 400
    assert answer.json()["message"] == 'strict decoding error: unknown field "spec.selectr"'
    assert "selectr" not in server.cluster.store.get(resources.SERVICES, "default", "web")["spec"]


def test_a_custom_resource_takes_no_strategic_merge_patch(server: SimServer) -> None:
    monitors = "/apis/monitoring.coreos.com/v1/namespaces/default/servicemonitors"
    httpx.post(server.url + monitors, json=servicemonitor(), headers=ADMIN).raise_for_status()

    patched = [
        httpx.patch(
            server.url + monitors + "/web",
            json={"metadata": {"labels": {"team": "sre"}}},
            headers={**ADMIN, "Content-Type": content_type},
        ).status_code
        for content_type in (
            "application/strategic-merge-patch+json",
            "application/merge-patch+json",
        )
    ]

    assert patched == [415, 200]
