"""Loading the engine's Kubernetes manifests from deploy/ for the tests."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
RBAC_DIR = DEPLOY / "rbac"
ENGINE_DIR = DEPLOY / "engine"
KUBERNETES_VERSION = "1.30.0"


@dataclass(frozen=True)
class Manifest:
    """One YAML document and the file it came from."""

    path: Path
    body: dict[str, Any]

    @property
    def kind(self) -> str:
        """The object's kind."""
        return str(self.body["kind"])

    @property
    def label(self) -> str:
        """A readable test id: file name and object kind/name."""
        return f"{self.path.name}:{self.kind}/{self.body['metadata']['name']}"


def load_manifests(*directories: Path) -> list[Manifest]:
    """Every non-empty YAML document in the given directories, in file order."""
    manifests: list[Manifest] = []
    for directory in directories:
        for path in sorted(directory.glob("*.yaml")):
            for document in yaml.safe_load_all(path.read_text(encoding="utf-8")):
                if document is not None:
                    manifests.append(Manifest(path=path, body=document))
    return manifests


def only(manifests: list[Manifest], kind: str) -> dict[str, Any]:
    """The single object of a kind; fails the test when there is not exactly one."""
    matching = [m.body for m in manifests if m.kind == kind]
    assert len(matching) == 1, f"expected one {kind}, found {len(matching)}"
    return matching[0]
