"""Discovery documents are shaped like the apiserver's, so clients and kubectl find resources."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from kubernetes import client

from simcluster.server import SimServer
from tests.simcluster.api.clusters import ApiClient, api

ADMIN = {"Authorization": "Bearer sim-admin-token"}


def _resources(server: SimServer, path: str) -> dict[str, dict[str, Any]]:
    answer = httpx.get(server.url + path, headers=ADMIN)
    assert answer.status_code == 200
    body = answer.json()
    assert body["kind"] == "APIResourceList"
    return {entry["name"]: entry for entry in body["resources"]}


def test_version_names_a_1_30_simulated_server(admin_client: ApiClient) -> None:
    info = api(client.VersionApi, admin_client).get_code()
    assert (info.major, info.minor) == ("1", "30")
    assert info.git_version.startswith("v1.30.")
    assert info.git_version.endswith("-sim")


def test_core_group_lists_resources_and_subresources(server: SimServer) -> None:
    core = _resources(server, "/api/v1")
    assert core["pods"] | {} == {
        "name": "pods",
        "singularName": "pod",
        "namespaced": True,
        "kind": "Pod",
        "verbs": [
            "create",
            "delete",
            "deletecollection",
            "get",
            "list",
            "patch",
            "update",
            "watch",
        ],
        "shortNames": ["po"],
        "categories": ["all"],
    }
    assert core["pods/log"]["verbs"] == ["get"]
    assert core["pods/exec"]["kind"] == "PodExecOptions"
    assert core["pods/status"]["verbs"] == ["get", "patch", "update"]
    assert core["nodes"]["namespaced"] is False
    assert core["services"]["shortNames"] == ["svc"]


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (
            "/apis/apps/v1",
            {"daemonsets", "deployments", "replicasets", "statefulsets", "controllerrevisions"},
        ),
        ("/apis/discovery.k8s.io/v1", {"endpointslices"}),
        ("/api/v1", {"secrets", "serviceaccounts", "persistentvolumeclaims", "configmaps"}),
        ("/apis/policy/v1", {"poddisruptionbudgets"}),
        ("/apis/networking.k8s.io/v1", {"networkpolicies", "ingresses"}),
        (
            "/apis/rbac.authorization.k8s.io/v1",
            {"roles", "clusterroles", "rolebindings", "clusterrolebindings"},
        ),
        ("/apis/authorization.k8s.io/v1", {"selfsubjectaccessreviews"}),
        ("/apis/authentication.k8s.io/v1", {"selfsubjectreviews"}),
        ("/apis/monitoring.coreos.com/v1", {"servicemonitors", "prometheusrules"}),
        ("/apis/monitoring.coreos.com/v1alpha1", {"alertmanagerconfigs"}),
    ],
)
def test_named_groups_list_their_resources(
    server: SimServer, path: str, expected: set[str]
) -> None:
    assert expected <= set(_resources(server, path))


def test_group_list_and_groups_name_their_preferred_versions(
    admin_client: ApiClient,
) -> None:
    groups = api(client.ApisApi, admin_client).get_api_versions().groups
    assert {g.name: g.preferred_version.group_version for g in groups} == {
        "apps": "apps/v1",
        "discovery.k8s.io": "discovery.k8s.io/v1",
        "policy": "policy/v1",
        "networking.k8s.io": "networking.k8s.io/v1",
        "rbac.authorization.k8s.io": "rbac.authorization.k8s.io/v1",
        "authentication.k8s.io": "authentication.k8s.io/v1",
        "authorization.k8s.io": "authorization.k8s.io/v1",
        "monitoring.coreos.com": "monitoring.coreos.com/v1",
    }
    apps = api(client.AppsApi, admin_client).get_api_group()
    assert apps.versions[0].group_version == "apps/v1"


def test_core_api_versions_are_served_at_api(admin_client: ApiClient) -> None:
    assert api(client.CoreApi, admin_client).get_api_versions().versions == ["v1"]


def test_aggregated_discovery_requests_get_the_plain_documents(server: SimServer) -> None:
    accept = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json"
    answer = httpx.get(server.url + "/apis", headers={**ADMIN, "Accept": accept})
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/json"
    assert answer.json()["kind"] == "APIGroupList"


def test_a_review_is_served_for_create_only(server: SimServer) -> None:
    reviews = _resources(server, "/apis/authorization.k8s.io/v1")["selfsubjectaccessreviews"]
    assert (reviews["verbs"], reviews["namespaced"]) == (["create"], False)
    listing = httpx.get(
        server.url + "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", headers=ADMIN
    )
    assert listing.status_code == 405


def test_prometheus_operator_kinds_are_in_its_category(server: SimServer) -> None:
    monitoring = _resources(server, "/apis/monitoring.coreos.com/v1")
    assert monitoring["servicemonitors"]["categories"] == ["prometheus-operator"]
    assert monitoring["prometheusrules"]["shortNames"] == ["promrule"]
