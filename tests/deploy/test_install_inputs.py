"""What an operator supplies at install time: secret files that stay out of git, Helm values.

The secret files are read byte for byte (kustomize's secretGenerator keeps a trailing newline,
and the engine compares the token exactly), and never committed.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from typing import Any

import pytest
import yaml

from tests.deploy.kustomize import SECRET_FILES
from tests.deploy.manifests import DEPLOY, REPO, locked_version

HELM_VALUES: dict[str, Any] = yaml.safe_load((DEPLOY / "prefect" / "helm-values.yaml").read_text())


@pytest.mark.parametrize("secret", SECRET_FILES)
def test_each_secret_file_has_an_example_of_its_form_without_a_trailing_newline(
    secret: str,
) -> None:
    example = (DEPLOY / f"{secret}.example").read_text(encoding="utf-8")

    assert re.fullmatch(r"[0-9a-f]{64}", example), "what `openssl rand -hex 32 | tr -d '\\n'` makes"


@pytest.mark.parametrize("secret", SECRET_FILES)
def test_each_secret_file_documents_how_to_make_it(secret: str) -> None:
    kustomization = (DEPLOY / secret).parents[1] / "kustomization.yaml"

    assert f"openssl rand -hex 32 | tr -d '\\n' > deploy/{secret}" in kustomization.read_text()


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
@pytest.mark.parametrize("secret", SECRET_FILES)
def test_git_never_commits_the_secret_files(secret: str) -> None:
    checked = subprocess.run(
        ["git", "check-ignore", "--quiet", f"deploy/{secret}"],
        cwd=REPO,
        capture_output=True,
        timeout=30,
        check=False,
    )

    assert checked.returncode == 0, f"deploy/{secret} is not git-ignored"


def test_the_helm_chart_keeps_prefect_on_postgresql_never_sqlite() -> None:
    assert HELM_VALUES["sqlite"]["enabled"] is False
    # Not the chart's bundled proof-of-concept database either: an existing connection Secret.
    assert HELM_VALUES["postgresql"]["enabled"] is False
    assert HELM_VALUES["secret"] == {"create": False, "name": HELM_VALUES["secret"]["name"]}


def test_the_helm_chart_runs_the_prefect_version_the_engine_is_locked_to() -> None:
    tag = HELM_VALUES["global"]["prefect"]["image"]["prefectTag"]

    assert tag == f"{locked_version('prefect')}-python3.11"


def test_the_helm_chart_gives_prefect_a_slow_first_start() -> None:
    liveness = HELM_VALUES["server"]["livenessProbe"]

    assert liveness["enabled"] is True
    assert liveness["config"]["initialDelaySeconds"] >= 100
