"""The simulated cluster's bearer tokens authenticate the admin and the engine's ServiceAccount."""

from __future__ import annotations

import pytest

from simcluster.authn import (
    ADMIN_TOKEN,
    ENGINE_TOKEN,
    TokenAuthenticator,
    UserInfo,
    service_account_user,
)

AUTHENTICATOR = TokenAuthenticator()


def test_the_admin_token_is_a_cluster_master() -> None:
    assert AUTHENTICATOR.authenticate_token(ADMIN_TOKEN) == UserInfo(
        name="system:admin", groups=("system:masters",)
    )


def test_the_engine_token_is_the_engines_service_account_with_kubernetes_groups() -> None:
    assert AUTHENTICATOR.authenticate_token(ENGINE_TOKEN) == UserInfo(
        name="system:serviceaccount:service-runbooks:service-runbooks",
        groups=(
            "system:serviceaccounts",
            "system:serviceaccounts:service-runbooks",
            "system:authenticated",
        ),
    )


@pytest.mark.parametrize(
    ("header", "user"),
    [
        (f"Bearer {ENGINE_TOKEN}", "system:serviceaccount:service-runbooks:service-runbooks"),
        (f"bearer {ADMIN_TOKEN}", "system:admin"),
        (f"  Bearer   {ADMIN_TOKEN}  ", "system:admin"),
        ("Bearer not-a-token", None),
        ("Bearer ", None),
        (f"Basic {ADMIN_TOKEN}", None),
        (ADMIN_TOKEN, None),
        (None, None),
    ],
)
def test_only_a_known_bearer_token_authenticates(header: str | None, user: str | None) -> None:
    found = AUTHENTICATOR.authenticate_header(header)

    assert (found.name if found else None) == user


def test_an_authenticator_can_be_given_its_own_tokens() -> None:
    ops = service_account_user("tools", "ops")
    authenticator = TokenAuthenticator({"ops-token": ops})

    assert authenticator.authenticate_header("Bearer ops-token") == ops
    assert authenticator.authenticate_token(ADMIN_TOKEN) is None
