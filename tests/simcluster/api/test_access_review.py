"""A SelfSubjectAccessReview answers as the request itself would be decided, for the caller."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from kubernetes import client

from simcluster import resources
from simcluster.server import SimServer
from tests.simcluster.api.clusters import ApiClient, api

ENGINE_TOKEN = {"Authorization": "Bearer sim-engine-token"}
REVIEWS = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"


def asks(
    verb: str,
    resource: str,
    *,
    group: str = "",
    subresource: str = "",
    namespace: str = "",
    name: str = "",
) -> dict[str, Any]:
    """A SelfSubjectAccessReview about one resource request."""
    attributes = {
        "verb": verb,
        "group": group,
        "resource": resource,
        "subresource": subresource,
        "namespace": namespace,
        "name": name,
    }
    return {"spec": {"resourceAttributes": attributes}}


def reviewed(api_client: ApiClient, body: dict[str, Any]) -> Any:
    return api(client.AuthorizationV1Api, api_client).create_self_subject_access_review(body)


@pytest.mark.parametrize(
    ("body", "allowed"),
    [
        (asks("list", "pods"), True),
        (asks("get", "pods", subresource="log", namespace="shop", name="web-1"), True),
        (asks("delete", "pods", namespace="shop", name="web-1"), True),
        (asks("watch", "endpointslices", group="discovery.k8s.io"), True),
        (
            asks("patch", "daemonsets", group="apps", namespace="kube-system", name="kube-proxy"),
            True,
        ),
        (asks("patch", "daemonsets", group="apps", namespace="kube-system", name="coredns"), False),
        # A rule pinned to names never grants a request that names nothing.
        (asks("patch", "daemonsets", group="apps", namespace="kube-system"), False),
        (asks("get", "configmaps", namespace="kube-system", name="kube-proxy"), True),
        (asks("get", "configmaps", namespace="kube-system", name="coredns"), False),
        (asks("create", "pods", subresource="exec", namespace="kube-system", name="p"), True),
        (asks("create", "pods", subresource="exec", namespace="shop", name="web-1"), False),
        (asks("list", "secrets", namespace="service-runbooks"), False),
        (asks("create", "deployments", group="apps", namespace="shop"), False),
        (asks("*", "*", group="*"), False),
        ({"spec": {"nonResourceAttributes": {"verb": "get", "path": "/apis/apps/v1"}}}, True),
        ({"spec": {"nonResourceAttributes": {"verb": "get", "path": "/metrics"}}}, False),
    ],
    ids=[
        "list-pods",
        "pod-log",
        "delete-pod",
        "watch-slices",
        "patch-kube-proxy",
        "patch-coredns",
        "patch-unnamed",
        "kube-proxy-config",
        "other-config",
        "exec-kube-system",
        "exec-shop",
        "secrets",
        "create-deployment",
        "everything",
        "discovery",
        "metrics",
    ],
)
def test_the_engine_is_told_what_deploy_rbac_allows_it(
    engine_client: ApiClient, body: dict[str, Any], allowed: bool
) -> None:
    assert reviewed(engine_client, body).status.allowed is allowed


def test_an_allowed_review_names_the_binding_role_and_subject(engine_client: ApiClient) -> None:
    status = reviewed(engine_client, asks("list", "services")).status

    assert status.reason == (
        'RBAC: allowed by ClusterRoleBinding "service-runbooks-read" of ClusterRole '
        '"service-runbooks-read" to ServiceAccount "service-runbooks/service-runbooks"'
    )
    assert status.denied is None


def test_a_refused_review_gives_no_reason_and_is_not_a_denial(engine_client: ApiClient) -> None:
    status = reviewed(engine_client, asks("list", "secrets")).status

    assert (status.allowed, status.denied, status.reason) == (False, None, None)


@pytest.mark.parametrize(
    ("body", "call"),
    [
        (asks("list", "pods", namespace="default"), "list_namespaced_pod"),
        (asks("list", "secrets", namespace="default"), "list_namespaced_secret"),
        (asks("list", "configmaps", namespace="default"), "list_namespaced_config_map"),
    ],
    ids=["pods", "secrets", "configmaps"],
)
def test_the_review_answers_as_the_request_itself_is_decided(
    engine_client: ApiClient, body: dict[str, Any], call: str
) -> None:
    status = 200
    try:
        getattr(api(client.CoreV1Api, engine_client), call)("default")
    except client.ApiException as error:
        status = error.status

    assert status in (200, 403)
    assert reviewed(engine_client, body).status.allowed is (status == 200)


def test_the_admin_may_do_anything(admin_client: ApiClient) -> None:
    assert reviewed(admin_client, asks("delete", "nodes", name="node-1")).status.allowed


def test_the_answer_echoes_the_spec_and_stores_nothing(server: SimServer) -> None:
    body = asks("get", "services", namespace="shop", name="web")
    answer = httpx.post(server.url + REVIEWS, json=body, headers=ENGINE_TOKEN)

    assert answer.status_code == 201
    assert answer.json()["kind"] == "SelfSubjectAccessReview"
    assert answer.json()["spec"] == body["spec"]
    assert server.cluster.store.count(resources.SELF_SUBJECT_ACCESS_REVIEWS) == 0


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (
            {},
            'SelfSubjectAccessReview.authorization.k8s.io "" is invalid: spec.resourceAttributes: '
            'Invalid value: "null": exactly one of nonResourceAttributes or resourceAttributes '
            "must be specified",
        ),
        (
            {
                "resourceAttributes": {"verb": "get", "resource": "pods"},
                "nonResourceAttributes": {"verb": "get", "path": "/api"},
            },
            "spec.nonResourceAttributes: Invalid value: ",
        ),
    ],
    ids=["neither", "both"],
)
def test_a_review_must_ask_about_one_kind_of_request(
    server: SimServer, spec: dict[str, Any], message: str
) -> None:
    answer = httpx.post(server.url + REVIEWS, json={"spec": spec}, headers=ENGINE_TOKEN)

    assert answer.status_code == 422
    assert message in answer.json()["message"]
