"""Bearer-token authentication for the simulated cluster: token to user and groups."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

ADMIN_TOKEN = "sim-admin-token"
ENGINE_TOKEN = "sim-engine-token"

ENGINE_NAMESPACE = "service-runbooks"
ENGINE_SERVICE_ACCOUNT = "service-runbooks"


@dataclass(frozen=True)
class UserInfo:
    """An authenticated caller, as the API server's authenticators describe one.

    Attributes:
        name: The user name, e.g. ``system:serviceaccount:<namespace>:<name>``.
        groups: The groups the user belongs to.
    """

    name: str
    groups: tuple[str, ...]


def service_account_user(namespace: str, name: str) -> UserInfo:
    """Describe a ServiceAccount the way the token authenticator does.

    Args:
        namespace: The ServiceAccount's namespace.
        name: The ServiceAccount's name.

    Returns:
        The user ``system:serviceaccount:<namespace>:<name>`` with the groups Kubernetes adds.
    """
    return UserInfo(
        name=f"system:serviceaccount:{namespace}:{name}",
        groups=(
            "system:serviceaccounts",
            f"system:serviceaccounts:{namespace}",
            "system:authenticated",
        ),
    )


ADMIN_USER = UserInfo(name="system:admin", groups=("system:masters",))
ENGINE_USER = service_account_user(ENGINE_NAMESPACE, ENGINE_SERVICE_ACCOUNT)

DEFAULT_TOKENS: Mapping[str, UserInfo] = MappingProxyType(
    {ADMIN_TOKEN: ADMIN_USER, ENGINE_TOKEN: ENGINE_USER}
)


class TokenAuthenticator:
    """Maps bearer tokens to users; an unknown or missing token authenticates no one."""

    def __init__(self, tokens: Mapping[str, UserInfo] = DEFAULT_TOKENS) -> None:
        """Create an authenticator.

        Args:
            tokens: Token to user; defaults to the admin and engine users of the simulated cluster.
        """
        self._tokens = dict(tokens)

    def authenticate_token(self, token: str) -> UserInfo | None:
        """Return the user a bearer token belongs to, or None when the token is unknown."""
        return self._tokens.get(token)

    def authenticate_header(self, authorization: str | None) -> UserInfo | None:
        """Return the user behind an ``Authorization`` header value, or None.

        Only the ``Bearer`` scheme is accepted (case-insensitively, as HTTP auth schemes are).
        """
        if authorization is None:
            return None
        scheme, _, token = authorization.strip().partition(" ")
        if scheme.lower() != "bearer":
            return None
        token = token.strip()
        return self.authenticate_token(token) if token else None
