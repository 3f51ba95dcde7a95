"""Label and field selectors filter lists the way the apiserver does."""

from __future__ import annotations

import pytest
from kubernetes import client

from tests.simcluster.api import manifests
from tests.simcluster.api.clusters import CoreApi
from tests.simcluster.api.status import status_of

PODS = {
    "web-a": ({"app": "web", "tier": "frontend"}, "node-1"),
    "web-b": ({"app": "web", "tier": "frontend", "canary": "true"}, "node-2"),
    "api-a": ({"app": "api", "tier": "backend"}, "node-1"),
    "db-a": ({"app": "db"}, "node-3"),
}


@pytest.fixture
def seeded(core: CoreApi) -> CoreApi:
    """Four pods with varied labels, spread over three nodes."""
    for name, (labels, node) in PODS.items():
        core.create_namespaced_pod("default", manifests.pod(name, labels=labels, node=node))
    return core


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ("app=web", {"web-a", "web-b"}),
        ("app==web", {"web-a", "web-b"}),
        ("app!=web", {"api-a", "db-a"}),
        ("app in (web,api)", {"web-a", "web-b", "api-a"}),
        ("app notin (web,api)", {"db-a"}),
        ("tier", {"web-a", "web-b", "api-a"}),
        ("!tier", {"db-a"}),
        ("app=web,!canary", {"web-a"}),
        ("tier!=backend", {"web-a", "web-b", "db-a"}),
    ],
)
def test_label_selector_forms_filter_the_list(
    seeded: CoreApi, selector: str, expected: set[str]
) -> None:
    listed = seeded.list_namespaced_pod("default", label_selector=selector)
    assert {p.metadata.name for p in listed.items} == expected


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ("spec.nodeName=node-1", {"web-a", "api-a"}),
        ("spec.nodeName!=node-1", {"web-b", "db-a"}),
        ("metadata.name=db-a", {"db-a"}),
        ("spec.nodeName=node-1,metadata.name!=web-a", {"api-a"}),
    ],
)
def test_field_selectors_filter_the_list(
    seeded: CoreApi, selector: str, expected: set[str]
) -> None:
    listed = seeded.list_namespaced_pod("default", field_selector=selector)
    assert {p.metadata.name for p in listed.items} == expected


def test_label_and_field_selectors_combine(seeded: CoreApi) -> None:
    listed = seeded.list_pod_for_all_namespaces(
        label_selector="app=web", field_selector="spec.nodeName=node-2"
    )
    assert [p.metadata.name for p in listed.items] == ["web-b"]


@pytest.mark.parametrize(
    ("kwargs", "message_part"),
    [
        ({"label_selector": "app in (web"}, "unbalanced"),
        ({"field_selector": "spec.hostname=x"}, 'field label not supported: "spec.hostname"'),
    ],
)
def test_malformed_selectors_are_a_bad_request(
    core: CoreApi, kwargs: dict[str, str], message_part: str
) -> None:
    with pytest.raises(client.ApiException) as raised:
        core.list_namespaced_pod("default", **kwargs)
    assert raised.value.status == 400
    status = status_of(raised.value)
    assert status["reason"] == "BadRequest"
    assert message_part in status["message"]
