"""The image registry the simulated kubelets pull from: which tags of which repositories exist.

Whether an image pulls is a property of its reference, as on a real cluster: a tag that the
registry does not hold for a repository it serves fails with ``ErrImagePull`` and then
``ImagePullBackOff``, so a typo in ``kubectl set image`` breaks a rollout by itself. Repositories
the registry does not serve are taken to pull (drills may use any public image).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

#: The repositories the simulated registry serves, with their tags. The crashing kube-proxy
#: build (``v1.30.99-broken``) exists: it pulls, and then crashes.
KNOWN_IMAGES: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        "registry.k8s.io/kube-proxy": frozenset(
            {"v1.29.9", "v1.30.1", "v1.30.2", "v1.30.3", "v1.30.4", "v1.30.5", "v1.31.1"}
            | {"v1.30.99-broken"}
        ),
        "registry.k8s.io/coredns/coredns": frozenset({"v1.11.1", "v1.11.3"}),
        "registry.k8s.io/pause": frozenset({"3.9", "3.10"}),
        "registry.example.com/shop/web": frozenset({"1.4.1", "1.4.2", "1.5.0"}),
        "registry.example.com/shop/checkout": frozenset({"2.0.0", "2.0.1", "2.1.0"}),
    }
)


@dataclass(frozen=True, slots=True)
class ImageRef:
    """An image reference split as a container runtime reads it.

    Attributes:
        repository: ``[host/]path``, e.g. ``registry.k8s.io/kube-proxy``.
        tag: The tag (``latest`` when none is given and there is no digest); None with a digest.
        digest: ``sha256:...`` when the reference pins one.
    """

    repository: str
    tag: str | None
    digest: str | None = None


def parse_image(reference: str) -> ImageRef:
    """Split ``[host[:port]/]path[:tag][@digest]`` into repository, tag and digest."""
    name, _, digest = reference.partition("@")
    last = name.rsplit("/", 1)[-1]
    if ":" in last:
        repository, _, tag = name.rpartition(":")
        return ImageRef(repository, tag, digest or None)
    return ImageRef(name, None if digest else "latest", digest or None)


class ImageRegistry:
    """The tags of the repositories the simulated registry serves.

    Args:
        images: Tags by repository; `KNOWN_IMAGES` by default.
    """

    def __init__(self, images: Mapping[str, Iterable[str]] = KNOWN_IMAGES) -> None:
        self._tags = {repository: frozenset(tags) for repository, tags in images.items()}

    def pull_error(self, reference: str) -> str | None:
        """Why pulling ``reference`` fails (containerd's words), or None when it pulls.

        A digest cannot be told from here, so a pinned reference pulls.
        """
        image = parse_image(reference)
        tags = self._tags.get(image.repository)
        if tags is None or image.tag is None or image.tag in tags:
            return None
        return (
            f"rpc error: code = NotFound desc = failed to pull and unpack image "
            f'"{reference}": failed to resolve reference "{reference}": {reference}: not found'
        )
