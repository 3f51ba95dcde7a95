"""Asking the API server what the caller may do (SelfSubjectAccessReview, `kubectl auth can-i`)."""

from __future__ import annotations

from kubernetes import client

from integrations.kubernetes.errors import RbacRule
from integrations.kubernetes.operations.base import KubeBase, json_headers


class AccessOperations(KubeBase):
    """Check permissions before acting, so a missing RBAC rule shows up before an incident."""

    def may(self, rule: RbacRule, *, name: str | None = None) -> bool:
        """Whether the caller's identity is allowed `rule` (on the object `name`, when given).

        Raises:
            KubeError: the API server cannot be reached or refuses the review itself.
        """
        attributes = {
            "verb": rule.verb,
            "group": rule.api_group,
            "resource": rule.resource,
            "subresource": rule.subresource or "",
            "namespace": rule.namespace or "",
            "name": name or "",
        }
        review = {
            "apiVersion": "authorization.k8s.io/v1",
            "kind": "SelfSubjectAccessReview",
            "spec": {"resourceAttributes": attributes},
        }
        answer = self._call.call_json(
            client.AuthorizationV1Api(self._api_client).create_self_subject_access_review,
            review,
            _headers=json_headers(),
        )
        return bool(answer.get("status", {}).get("allowed", False))
