"""The simulated registry: an image pulls when its repository has its tag (or is not served)."""

from __future__ import annotations

import pytest

from simcluster.images import ImageRef, ImageRegistry, parse_image

REGISTRY = ImageRegistry({"registry.k8s.io/kube-proxy": {"v1.30.4"}, "localhost:5000/app": {"1"}})


@pytest.mark.parametrize(
    ("reference", "parsed"),
    [
        ("registry.k8s.io/kube-proxy:v1.30.4", ImageRef("registry.k8s.io/kube-proxy", "v1.30.4")),
        ("nginx", ImageRef("nginx", "latest")),
        ("localhost:5000/app", ImageRef("localhost:5000/app", "latest")),
        ("localhost:5000/app:1", ImageRef("localhost:5000/app", "1")),
        ("app@sha256:abc", ImageRef("app", None, "sha256:abc")),
        ("app:1@sha256:abc", ImageRef("app", "1", "sha256:abc")),
    ],
)
def test_an_image_reference_splits_into_repository_tag_and_digest(
    reference: str, parsed: ImageRef
) -> None:
    assert parse_image(reference) == parsed


@pytest.mark.parametrize(
    ("reference", "pulls"),
    [
        ("registry.k8s.io/kube-proxy:v1.30.4", True),
        ("registry.k8s.io/kube-proxy:v9.9.9-broken", False),
        ("registry.k8s.io/kube-proxy", False),  # latest is not a tag it has
        ("registry.k8s.io/kube-proxy@sha256:abc", True),  # a digest cannot be told here
        ("localhost:5000/app:1", True),
        ("localhost:5000/app:2", False),
        ("docker.io/library/nginx:1.27", True),  # a repository the registry does not serve
    ],
)
def test_an_image_pulls_unless_its_repository_lacks_its_tag(reference: str, pulls: bool) -> None:
    assert (REGISTRY.pull_error(reference) is None) is pulls


def test_a_failed_pull_says_what_containerd_says() -> None:
    error = REGISTRY.pull_error("registry.k8s.io/kube-proxy:v9.9.9-broken")
    assert error is not None
    assert error.startswith("rpc error: code = NotFound desc = failed to pull and unpack image")
    assert error.endswith("registry.k8s.io/kube-proxy:v9.9.9-broken: not found")
