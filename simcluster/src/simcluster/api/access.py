"""Authorization of API requests: build the RBAC `AccessRequest` and turn a denial into a 403."""

from __future__ import annotations

from simcluster.api.paths import ResourcePath
from simcluster.authn import UserInfo
from simcluster.errors import ForbiddenError
from simcluster.rbac import AccessRequest, RbacPolicy, forbidden_status


def resource_access(user: UserInfo, verb: str, target: ResourcePath) -> AccessRequest:
    """Describe a resource request the way the apiserver's authorizer sees it."""
    return AccessRequest(
        user.name,
        user.groups,
        verb=verb,
        api_group=target.resource.group,
        resource=target.resource.plural,
        subresource=target.subresource,
        namespace=target.namespace,
        name=target.name,
    )


def path_access(user: UserInfo, path: str) -> AccessRequest:
    """Describe a non-resource request (discovery, ``/version``)."""
    return AccessRequest(user.name, user.groups, verb="get", path=path)


def check_access(policy: RbacPolicy | None, request: AccessRequest) -> None:
    """Allow the request or raise the apiserver's 403.

    A missing policy authorizes everything (like ``--authorization-mode=AlwaysAllow``).

    Raises:
        ForbiddenError: RBAC refuses the request; its `Status` carries Kubernetes' wording.
    """
    if policy is None:
        return
    decision = policy.authorize(request)
    if not decision.allowed:
        status = forbidden_status(request, decision)
        raise ForbiddenError(status["message"], details=status["details"])
