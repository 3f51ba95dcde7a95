"""Reviews: the caller asks what it may do (SelfSubjectAccessReview) or who it is.

An access review's answer is the decision the request itself would get (`kubectl auth
can-i`, `runbooks doctor`): the same policy, the same bootstrap roles, ``resourceNames``
honoured through ``name``. A SelfSubjectReview (`kubectl auth whoami`) names the user the
request ran as, impersonation included. As in the apiserver, reviews are answered, not stored.
"""

from __future__ import annotations

import json
from typing import Any

from simcluster import resources
from simcluster.api.bodies import decode_object
from simcluster.authn import UserInfo
from simcluster.errors import InvalidError
from simcluster.rbac import AccessRequest, Decision, RbacPolicy
from simcluster.resources import ResourceType

Obj = dict[str, Any]
_RESOURCE, _NON_RESOURCE = "resourceAttributes", "nonResourceAttributes"


def answer(rt: ResourceType, body: bytes, user: UserInfo, policy: RbacPolicy | None) -> Obj:
    """Answer a review of either kind for ``user``.

    Raises:
        ApiError: a malformed review (400, 422).
    """
    if rt is resources.SELF_SUBJECT_REVIEWS:
        decode_object(rt, body)
        return {
            "kind": rt.kind,
            "apiVersion": rt.api_version,
            "metadata": {"creationTimestamp": None},
            "status": {"userInfo": {"username": user.name, "groups": list(user.groups)}},
        }
    return review(body, user, policy)


def review(body: bytes, user: UserInfo, policy: RbacPolicy | None) -> Obj:
    """Answer a SelfSubjectAccessReview for ``user``: the review with its ``status`` filled in.

    A missing policy allows everything, as the request itself would be allowed.

    Raises:
        BadRequestError: the body is not a SelfSubjectAccessReview.
        InvalidError: the spec does not name exactly one of the two kinds of attributes.
    """
    rt = resources.SELF_SUBJECT_ACCESS_REVIEWS
    sent = decode_object(rt, body)
    spec = sent.get("spec")
    spec = spec if isinstance(spec, dict) else {}
    given = [key for key in (_RESOURCE, _NON_RESOURCE) if isinstance(spec.get(key), dict)]
    if not given:
        raise _invalid(
            _RESOURCE,
            '"null"',
            "exactly one of nonResourceAttributes or resourceAttributes must be specified",
        )
    if len(given) == 2:
        raise _invalid(
            _NON_RESOURCE,
            json.dumps(spec[_NON_RESOURCE]),
            "cannot be specified in combination with resourceAttributes",
        )
    request = _access_request(user, given[0], spec[given[0]])
    decision = policy.authorize(request) if policy is not None else Decision(True, "", "")
    status: Obj = {"allowed": decision.allowed}
    # The Go type omits empty fields; RBAC never denies outright (`denied` stays unset).
    if decision.reason:
        status["reason"] = decision.reason
    return {
        "kind": rt.kind,
        "apiVersion": rt.api_version,
        "metadata": {"creationTimestamp": None},
        "spec": spec,
        "status": status,
    }


def _invalid(field: str, value: str, problem: str) -> InvalidError:
    cause = (f"spec.{field}", "FieldValueInvalid", f"Invalid value: {value}: {problem}")
    return InvalidError.of(resources.SELF_SUBJECT_ACCESS_REVIEWS, "", [cause])


def _access_request(user: UserInfo, kind: str, attributes: Obj) -> AccessRequest:
    def text(key: str) -> str:
        return str(attributes.get(key) or "")

    if kind == _NON_RESOURCE:
        return AccessRequest(user.name, user.groups, verb=text("verb"), path=text("path"))
    # An empty namespace asks about every namespace, as a cluster-wide request would be.
    return AccessRequest(
        user.name,
        user.groups,
        verb=text("verb"),
        api_group=text("group"),
        resource=text("resource"),
        subresource=text("subresource"),
        namespace=text("namespace") or None,
        name=text("name") or None,
    )
