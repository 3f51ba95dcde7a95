"""HTTP methods on resource paths map to the Kubernetes verbs RBAC authorizes."""

from __future__ import annotations

import pytest

from simcluster import resources
from simcluster.api.paths import ResourcePath
from simcluster.api.verbs import is_watch, request_verb
from simcluster.errors import MethodNotAllowedError

COLLECTION = ResourcePath(resources.PODS, "default")
OBJECT = ResourcePath(resources.PODS, "default", "web-1")
STATUS = ResourcePath(resources.PODS, "default", "web-1", "status")
LOG = ResourcePath(resources.PODS, "default", "web-1", "log")
EXEC = ResourcePath(resources.PODS, "default", "web-1", "exec")


@pytest.mark.parametrize(
    ("method", "target", "watch", "verb"),
    [
        ("GET", COLLECTION, False, "list"),
        ("GET", COLLECTION, True, "watch"),
        ("POST", COLLECTION, False, "create"),
        ("DELETE", COLLECTION, False, "deletecollection"),
        ("GET", OBJECT, False, "get"),
        ("GET", OBJECT, True, "watch"),
        ("PUT", OBJECT, False, "update"),
        ("PATCH", OBJECT, False, "patch"),
        ("DELETE", OBJECT, False, "delete"),
        ("GET", STATUS, False, "get"),
        ("PUT", STATUS, False, "update"),
        ("PATCH", STATUS, False, "patch"),
        ("GET", LOG, False, "get"),
        ("GET", EXEC, False, "create"),
        ("POST", EXEC, False, "create"),
    ],
)
def test_methods_map_to_kubernetes_verbs(
    method: str, target: ResourcePath, watch: bool, verb: str
) -> None:
    assert request_verb(method, target, watch=watch) == verb


@pytest.mark.parametrize(
    ("method", "target"),
    [
        ("PUT", COLLECTION),
        ("PATCH", COLLECTION),
        ("POST", OBJECT),
        ("DELETE", STATUS),
        ("POST", LOG),
        ("DELETE", EXEC),
    ],
)
def test_methods_a_path_does_not_serve_are_not_allowed(method: str, target: ResourcePath) -> None:
    with pytest.raises(MethodNotAllowedError):
        request_verb(method, target)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("true", True), ("1", True), ("True", True), ("false", False), ("0", False), (None, False)],
)
def test_watch_is_asked_for_with_true_or_1(value: str | None, expected: bool) -> None:
    assert is_watch(value) is expected
