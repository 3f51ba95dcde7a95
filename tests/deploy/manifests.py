"""Loading the engine's Kubernetes manifests from deploy/ for the tests."""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from kubernetes_validate.utils import all_versions

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
RBAC_DIR = DEPLOY / "rbac"
BASE_DIR = DEPLOY / "base"

#: The Kubernetes versions the manifests must be valid for: the supported window where the
#: installed kubernetes-validate has schemas for it, else the newest it has.
SUPPORTED_VERSIONS = ("1.30", "1.31", "1.32", "1.33")
SCHEMA_VERSIONS: tuple[str, ...] = tuple(
    f"{version}.0" for version in SUPPORTED_VERSIONS if f"{version}.0" in all_versions()
) or (max(all_versions(), key=lambda v: tuple(int(p) for p in v.split("."))),)

#: Files of kustomize itself, not Kubernetes objects.
KUSTOMIZE_KINDS = frozenset({"Kustomization", "Component"})
#: Custom resources of prometheus-operator: no schema in Kubernetes' OpenAPI documents.
OPERATOR_GROUP = "monitoring.coreos.com"


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
    """Every Kubernetes object in the directories' YAML files, in file order (no kustomizations)."""
    manifests: list[Manifest] = []
    for directory in directories:
        for path in sorted(directory.glob("*.yaml")):
            for document in yaml.safe_load_all(path.read_text(encoding="utf-8")):
                if document is not None and document.get("kind") not in KUSTOMIZE_KINDS:
                    manifests.append(Manifest(path=path, body=document))
    return manifests


def only(manifests: list[Manifest], kind: str) -> dict[str, Any]:
    """The single object of a kind; fails the test when there is not exactly one."""
    matching = [m.body for m in manifests if m.kind == kind]
    assert len(matching) == 1, f"expected one {kind}, found {len(matching)}"
    return matching[0]


def is_custom_resource(body: dict[str, Any]) -> bool:
    """Whether the object is one of prometheus-operator's custom resources."""
    return str(body["apiVersion"]).split("/")[0] == OPERATOR_GROUP


def project_version() -> str:
    """The product's version, as pyproject.toml says."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return str(project["version"])


def locked_version(package: str) -> str:
    """The version uv.lock pins a package to."""
    lock = tomllib.loads((REPO / "uv.lock").read_text(encoding="utf-8"))
    [version] = [p["version"] for p in lock["package"] if p["name"] == package]
    return str(version)


def yaml_documents(path: Path) -> Iterable[dict[str, Any]]:
    """The non-empty documents of a YAML file."""
    return [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d is not None]
