"""Fixtures of the deploy/ tests: the manifests as kustomize renders them."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from pathlib import Path

import pytest

from tests.deploy.kustomize import Rendered, deploy_tree, render


@pytest.fixture(scope="session")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Rendered]:
    """Renders a layout (tests.deploy.kustomize.LAYOUTS) once per session, on first use."""
    workspace: Path = tmp_path_factory.mktemp("kustomize")
    tree = deploy_tree(workspace)

    @cache
    def by_name(name: str) -> Rendered:
        return render(tree, name)

    return by_name
