"""The ``/scale`` subresource of Deployments, ReplicaSets and StatefulSets (``kubectl scale``).

A ``Scale`` (``autoscaling/v1``) is a view of the workload: ``spec.replicas`` is the workload's,
``status.replicas`` and ``status.selector`` its controller's. Reading it, replacing it or patching
it (merge, JSON or strategic merge, as ``kubectl scale`` sends) changes only the workload's
``spec.replicas``; the workload's ``metadata.resourceVersion`` is the Scale's, so a stale one is
a 409 as on the workload itself.
"""

from __future__ import annotations

import copy
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from simcluster.api.backend import ClusterBackend
from simcluster.api.bodies import is_dry_run
from simcluster.api.paths import ResourcePath
from simcluster.api.responses import json_response
from simcluster.errors import BadRequestError, ConflictError, InvalidError, MethodNotAllowedError
from simcluster.patching import apply_patch

Obj = dict[str, Any]
SCALE_API_VERSION = "autoscaling/v1"
_IDENTITY = ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")


def scale_of(workload: Obj) -> Obj:
    """The ``Scale`` view of a workload."""
    meta = workload["metadata"]
    spec, status = workload.get("spec") or {}, workload.get("status") or {}
    match = (spec.get("selector") or {}).get("matchLabels") or {}
    return {
        "kind": "Scale",
        "apiVersion": SCALE_API_VERSION,
        "metadata": {key: meta[key] for key in _IDENTITY if key in meta},
        "spec": {"replicas": int(spec.get("replicas", 1))},
        "status": {
            "replicas": int(status.get("replicas", 0)),
            "selector": ",".join(f"{k}={v}" for k, v in sorted(match.items())),
        },
    }


def wanted_replicas(scale: Obj, *, name: str) -> int:
    """``spec.replicas`` of a Scale a client sent, validated as the apiserver does.

    Raises:
        InvalidError: not a non-negative integer (422).
    """
    replicas = (scale.get("spec") or {}).get("replicas", 0)
    if isinstance(replicas, bool) or not isinstance(replicas, int) or replicas < 0:
        message = f"Invalid value: {replicas!r}: must be greater than or equal to 0"
        raise InvalidError(
            f'Scale.autoscaling "{name}" is invalid: spec.replicas: {message}',
            details={
                "name": name,
                "group": "autoscaling",
                "kind": "Scale",
                "causes": [
                    {"reason": "FieldValueInvalid", "message": message, "field": "spec.replicas"}
                ],
            },
        )
    return replicas


async def serve_scale(
    request: Request, cluster: ClusterBackend, target: ResourcePath, *, verb: str
) -> Response:
    """Get, replace or patch a workload's Scale.

    Raises:
        ApiError: 404 no such workload, 409 stale resourceVersion, 422 bad replicas, 400/415
            an unreadable body, 405 any other verb.
    """
    rt, name = target.resource, str(target.name)
    store = cluster.store
    if verb == "get":
        return json_response(scale_of(store.get(rt, target.namespace, name)))
    if verb not in ("update", "patch"):
        raise MethodNotAllowedError(
            "the server does not allow this method on the requested resource"
        )
    body = await request.body()
    with store.lock:
        current = store.get(rt, target.namespace, name)
        if verb == "update":
            sent = _decode(body)
        else:
            # Patched under the workload's kind: the identity checks look the kind up, and a
            # Scale's fields are scalars, which every patch type merges alike.
            view = scale_of(current) | {"kind": rt.kind, "apiVersion": rt.api_version}
            sent = apply_patch(view, body, request.headers.get("content-type", ""))
        expected = (sent.get("metadata") or {}).get("resourceVersion")
        if expected and str(expected) != current["metadata"]["resourceVersion"]:
            raise ConflictError.stale(rt, name)
        candidate = copy.deepcopy(current)
        candidate["spec"]["replicas"] = wanted_replicas(sent, name=name)
        cluster.admission.admit(rt, candidate, old=current)
        if is_dry_run(request.query_params):
            return json_response(scale_of(candidate))
        return json_response(scale_of(store.replace(rt, candidate)))


def _decode(body: bytes) -> Obj:
    try:
        decoded = orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise BadRequestError(f"the body of the request is not valid JSON: {error}") from error
    if not isinstance(decoded, dict):
        raise BadRequestError("the body of the request must be a Scale object")
    return decoded
