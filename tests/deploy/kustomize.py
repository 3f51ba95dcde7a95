"""Rendering deploy/ with ``kubectl kustomize``, as ``kubectl apply -k`` would, for the tests."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.deploy.manifests import DEPLOY

KUBECTL = shutil.which("kubectl")

#: Marks for tests that render: they skip only where kubectl is absent.
NEEDS_KUBECTL = [
    pytest.mark.kubectl,
    pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed"),
]

#: The git-ignored files an operator creates before applying, and the examples shipped beside
#: them that the tests render with instead.
SECRET_FILES = (
    "base/secrets/webhook-token",
    "overlays/with-prefect/secrets/postgres-password",
)


@dataclass(frozen=True)
class Layout:
    """A kustomization under test: what it includes, as paths relative to deploy/."""

    resources: tuple[str, ...]
    components: tuple[str, ...] = ()

    @property
    def single_directory(self) -> str | None:
        """The one directory to render as it is, when nothing is combined with it."""
        return self.resources[0] if len(self.resources) == 1 and not self.components else None


#: Every way the tests render deploy/: the two overlays as shipped, and with the components an
#: operator adds.
LAYOUTS: dict[str, Layout] = {
    "with-prefect": Layout(("overlays/with-prefect",)),
    "external-prefect": Layout(("overlays/external-prefect",)),
    "base+namespaced-remediation": Layout(("base",), ("components/namespaced-remediation",)),
    "external-prefect+namespaced-remediation": Layout(
        ("overlays/external-prefect",), ("components/namespaced-remediation",)
    ),
    "external-prefect+single-replica": Layout(
        ("overlays/external-prefect",), ("components/single-replica",)
    ),
    "with-prefect+ingress": Layout(
        ("overlays/with-prefect",), ("ingress/slack", "ingress/prefect-ui")
    ),
}

#: The layouts an operator applies as they are (base alone is not one: it names no Prefect).
INSTALLABLE = tuple(name for name in LAYOUTS if not name.startswith("base"))


@dataclass(frozen=True)
class Rendered:
    """The objects one kustomization renders to."""

    name: str
    objects: list[dict[str, Any]] = field(repr=False)

    def of_kind(self, kind: str) -> list[dict[str, Any]]:
        """Every object of a kind."""
        return [o for o in self.objects if o["kind"] == kind]

    def find(self, kind: str, name: str) -> dict[str, Any] | None:
        """The object of that kind and name, if rendered."""
        matching = [o for o in self.of_kind(kind) if o["metadata"]["name"] == name]
        assert len(matching) <= 1, f"{len(matching)} {kind}s named {name} in {self.name}"
        return matching[0] if matching else None

    def one(self, kind: str, name: str) -> dict[str, Any]:
        """The object of that kind and name; fails the test when it is not rendered."""
        found = self.find(kind, name)
        assert found is not None, f"no {kind} {name} in {self.name}"
        return found

    def generated(self, kind: str, name: str) -> dict[str, Any]:
        """A generated ConfigMap or Secret, by its name before kustomize's hash suffix."""
        [found] = [o for o in self.of_kind(kind) if o["metadata"]["name"].rsplit("-", 1)[0] == name]
        return found

    @property
    def engine(self) -> dict[str, Any]:
        """The engine's Deployment."""
        return self.one("Deployment", "service-runbooks")

    def workloads(self) -> Iterator[dict[str, Any]]:
        """Every Deployment and StatefulSet."""
        yield from self.of_kind("Deployment")
        yield from self.of_kind("StatefulSet")


def deploy_tree(destination: Path) -> Path:
    """A copy of deploy/ with the operator's secret files filled from their examples."""
    tree = destination / "deploy"
    shutil.copytree(DEPLOY, tree)
    for secret in SECRET_FILES:
        shutil.copyfile(tree / f"{secret}.example", tree / secret)
    return tree


def render(tree: Path, name: str) -> Rendered:
    """Render one of LAYOUTS from a tree made by ``deploy_tree``."""
    layout = LAYOUTS[name]
    directory = tree / layout.single_directory if layout.single_directory else None
    if directory is None:
        directory = tree.parent / "layouts" / name
        directory.mkdir(parents=True)
        kustomization = {
            "apiVersion": "kustomize.config.k8s.io/v1beta1",
            "kind": "Kustomization",
            "resources": [f"../../deploy/{path}" for path in layout.resources],
            "components": [f"../../deploy/{path}" for path in layout.components],
        }
        (directory / "kustomization.yaml").write_text(yaml.safe_dump(kustomization))
    assert KUBECTL is not None
    done = subprocess.run(
        [KUBECTL, "kustomize", str(directory)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, f"kubectl kustomize {name}:\n{done.stderr}"
    return Rendered(name, [o for o in yaml.safe_load_all(done.stdout) if o is not None])
