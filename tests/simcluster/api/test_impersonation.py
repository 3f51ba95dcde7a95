"""Impersonation: a caller allowed to impersonate acts as another user, and only then."""

from __future__ import annotations

import httpx
import pytest

from simcluster.server import SimServer

ADMIN = {"Authorization": "Bearer sim-admin-token"}
ENGINE = {"Authorization": "Bearer sim-engine-token"}
ENGINE_SA = "system:serviceaccount:service-runbooks:service-runbooks"
WHOAMI = "/apis/authentication.k8s.io/v1/selfsubjectreviews"
REVIEW = {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"}


@pytest.mark.parametrize(
    ("headers", "username", "groups"),
    [
        (ADMIN, "system:admin", ["system:masters"]),
        (
            {**ADMIN, "Impersonate-User": ENGINE_SA},
            ENGINE_SA,
            [
                "system:serviceaccounts",
                "system:serviceaccounts:service-runbooks",
                "system:authenticated",
            ],
        ),
        (
            {**ADMIN, "Impersonate-User": "carol", "Impersonate-Group": "sre"},
            "carol",
            ["sre", "system:authenticated"],
        ),
        ({**ADMIN, "Impersonate-User": "carol"}, "carol", ["system:authenticated"]),
    ],
    ids=["self", "service-account", "user-and-group", "user"],
)
def test_whoami_names_the_user_a_request_acts_as(
    server: SimServer, headers: dict[str, str], username: str, groups: list[str]
) -> None:
    answer = httpx.post(server.url + WHOAMI, json=REVIEW, headers=headers)

    assert answer.status_code == 201
    assert answer.json()["status"]["userInfo"] == {"username": username, "groups": groups}


def test_an_impersonated_request_is_authorized_as_the_impersonated_user(
    server: SimServer,
) -> None:
    as_engine = {**ADMIN, "Impersonate-User": ENGINE_SA}

    pods = httpx.get(server.url + "/api/v1/pods", headers=as_engine)
    secrets = httpx.get(server.url + "/api/v1/secrets", headers=as_engine)

    assert (pods.status_code, secrets.status_code) == (200, 403)
    assert f'User "{ENGINE_SA}" cannot list resource "secrets"' in secrets.json()["message"]


@pytest.mark.parametrize(
    ("headers", "status", "message"),
    [
        (
            {**ENGINE, "Impersonate-User": "system:admin"},
            403,
            'users "system:admin" is forbidden: User "system:serviceaccount:service-runbooks:'
            'service-runbooks" cannot impersonate resource "users" in API group "" at the '
            "cluster scope",
        ),
        (
            {**ENGINE, "Impersonate-User": "system:serviceaccount:kube-system:admin"},
            403,
            'serviceaccounts "admin" is forbidden',
        ),
        ({**ADMIN, "Impersonate-Group": "sre"}, 400, "without impersonating a user"),
    ],
    ids=["engine-as-admin", "engine-as-service-account", "groups-alone"],
)
def test_an_impersonation_the_caller_may_not_make_is_refused(
    server: SimServer, headers: dict[str, str], status: int, message: str
) -> None:
    answer = httpx.get(server.url + "/api/v1/pods", headers=headers)

    assert answer.status_code == status
    assert message in answer.json()["message"]
