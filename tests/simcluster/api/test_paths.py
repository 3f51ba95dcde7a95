"""URL paths resolve to the resource, namespace, name and subresource they address."""

from __future__ import annotations

import pytest

from simcluster import resources
from simcluster.api.paths import PathNotFoundError, ResourcePath, resolve_path


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/api/v1/pods", ResourcePath(resources.PODS)),
        ("/api/v1/namespaces/default/pods", ResourcePath(resources.PODS, "default")),
        (
            "/api/v1/namespaces/default/pods/web-1",
            ResourcePath(resources.PODS, "default", "web-1"),
        ),
        (
            "/api/v1/namespaces/kube-system/pods/kp-x/log",
            ResourcePath(resources.PODS, "kube-system", "kp-x", "log"),
        ),
        (
            "/api/v1/namespaces/kube-system/pods/kp-x/exec",
            ResourcePath(resources.PODS, "kube-system", "kp-x", "exec"),
        ),
        ("/api/v1/nodes", ResourcePath(resources.NODES)),
        ("/api/v1/nodes/node-1", ResourcePath(resources.NODES, None, "node-1")),
        ("/api/v1/nodes/node-1/status", ResourcePath(resources.NODES, None, "node-1", "status")),
        ("/api/v1/namespaces", ResourcePath(resources.NAMESPACES)),
        ("/api/v1/namespaces/shop", ResourcePath(resources.NAMESPACES, None, "shop")),
        (
            "/api/v1/namespaces/shop/status",
            ResourcePath(resources.NAMESPACES, None, "shop", "status"),
        ),
        (
            "/apis/apps/v1/namespaces/kube-system/daemonsets/kube-proxy",
            ResourcePath(resources.DAEMONSETS, "kube-system", "kube-proxy"),
        ),
        ("/apis/apps/v1/daemonsets", ResourcePath(resources.DAEMONSETS)),
        (
            "/apis/discovery.k8s.io/v1/namespaces/shop/endpointslices",
            ResourcePath(resources.ENDPOINTSLICES, "shop"),
        ),
    ],
)
def test_api_paths_resolve_to_what_they_address(path: str, expected: ResourcePath) -> None:
    assert resolve_path(path) == expected


@pytest.mark.parametrize(
    "path",
    [
        "/api",
        "/api/v1",
        "/api/v2/pods",
        "/api/v1/widgets",
        "/apis/apps/v2/daemonsets",
        "/apis/apps/v1/pods",
        "/api/v1/nodes/node-1/log",
        "/api/v1/pods/web-1",
        "/api/v1/namespaces/default/nodes",
        "/api/v1/namespaces/default/pods/web-1/status/extra",
        "/api/v1/namespaces/default/services/web/exec",
        "/healthz",
    ],
)
def test_paths_the_cluster_does_not_serve_are_not_found(path: str) -> None:
    with pytest.raises(PathNotFoundError):
        resolve_path(path)


def test_counted_resource_names_the_subresource() -> None:
    assert ResourcePath(resources.PODS, "ns", "p", "log").counted_resource == "pods/log"
    assert ResourcePath(resources.PODS, "ns").counted_resource == "pods"
