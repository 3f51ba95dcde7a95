"""User impersonation (``Impersonate-User``, ``kubectl --as``): act as another user if allowed.

The caller must be allowed to ``impersonate`` the user (a ServiceAccount name is checked as
``serviceaccounts`` in its namespace) and each group it names, as the apiserver's
impersonation filter checks; the request then runs as that user, with the groups an
authenticator would have given it. `kubectl auth can-i --as=...` is how an operator asks
what the engine's ServiceAccount may do.
"""

from __future__ import annotations

from simcluster.authn import UserInfo, service_account_user
from simcluster.errors import BadRequestError, ForbiddenError
from simcluster.rbac import AccessRequest, RbacPolicy, forbidden_status

_AUTHENTICATED = "system:authenticated"
_SERVICE_ACCOUNT_PREFIX = "system:serviceaccount:"


def impersonated(
    caller: UserInfo, *, user: str | None, groups: list[str], policy: RbacPolicy | None
) -> UserInfo:
    """The user a request acts as: ``caller``, or whom it impersonates.

    Args:
        caller: The authenticated user.
        user: The ``Impersonate-User`` header, if sent.
        groups: Every ``Impersonate-Group`` header (it may repeat).
        policy: Who may impersonate whom; None allows it (as it allows everything).

    Raises:
        BadRequestError: groups to impersonate without a user.
        ForbiddenError: the caller may not impersonate that user or one of the groups.
    """
    name = user
    if name is None:
        if groups:
            raise BadRequestError("requested impersonation of groups without impersonating a user")
        return caller
    if name.startswith(_SERVICE_ACCOUNT_PREFIX) and name.count(":") == 3:
        _, _, namespace, account = name.split(":")
        _allow(caller, policy, resource="serviceaccounts", name=account, namespace=namespace)
        default_groups = service_account_user(namespace, account).groups
    else:
        _allow(caller, policy, resource="users", name=name)
        default_groups = (_AUTHENTICATED,)
    for group in groups:
        _allow(caller, policy, resource="groups", name=group)
    acting = tuple(groups) or default_groups
    if _AUTHENTICATED not in acting:
        acting = (*acting, _AUTHENTICATED)
    return UserInfo(name=name, groups=acting)


def _allow(
    caller: UserInfo,
    policy: RbacPolicy | None,
    *,
    resource: str,
    name: str,
    namespace: str | None = None,
) -> None:
    if policy is None:
        return
    request = AccessRequest(
        caller.name,
        caller.groups,
        verb="impersonate",
        resource=resource,
        namespace=namespace,
        name=name,
    )
    decision = policy.authorize(request)
    if not decision.allowed:
        status = forbidden_status(request, decision)
        raise ForbiddenError(status["message"], details=status["details"])
