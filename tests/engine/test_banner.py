"""The banner: a real cluster announced as loudly as the simulated one, with where changes wait."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from engine.banner import engine_banner
from engine.cluster_access import ClusterAccess, configured_cluster
from engine.settings import EngineSettings
from runbooks import load_catalog

RUNBOOK = """\
name: {name}
description: A runbook for the banner's tests.
match:
  labels: {{alertname: {alertname}}}
deployment: service-checklist/service-checklist
parameters:
  scope: service
concurrency_key: "{name}"
approval:
  actions:
{actions}
"""


def shouted(banner: str) -> str:
    """The banner's framed ``!!! … !!!`` lines as one sentence run, unwrapped."""
    inner = [line.strip()[3:-3] for line in banner.splitlines() if line.startswith("  !!! ")]
    return re.sub(r"\s+", " ", " ".join(inner)).strip()


def prod_banner(settings: EngineSettings, access: ClusterAccess, catalog_dir: Path) -> str:
    return engine_banner(
        settings,
        access,
        api_url="http://127.0.0.1:4200/api",
        catalog=load_catalog(catalog_dir),
        flows=[],
        receiver_url="http://127.0.0.1:8080",
    )


@pytest.fixture
def catalog_dir(tmp_path: Path) -> Path:
    """Two runbooks: one waits for approval to restart kube-proxy, one patches unattended."""
    folder = tmp_path / "catalog"
    folder.mkdir()
    (folder / "service-down.yaml").write_text(
        RUNBOOK.format(
            name="service-down",
            alertname="ServiceDown",
            actions="    diagnose: auto\n    restart_kube_proxy_pod: required\n"
            "    patch_service: required",
        )
    )
    (folder / "selector-drift.yaml").write_text(
        RUNBOOK.format(
            name="selector-drift", alertname="SelectorDrift", actions="    patch_service: auto"
        )
    )
    return folder


def test_with_a_real_cluster_the_banner_shouts_its_api_server_context_and_approvals(
    tmp_path: Path, prod_kubeconfig: Path, catalog_dir: Path
) -> None:
    settings = EngineSettings(
        state_dir=tmp_path,
        kubeconfig=prod_kubeconfig,
        slack_bot_token="xoxb-test",
        slack_signing_secret="secret",
        slack_channel="C0123ABC",
    )
    access = configured_cluster(settings)
    assert access is not None

    banner = prod_banner(settings, access, catalog_dir)

    assert shouted(banner) == (
        "REAL CLUSTER: the engine acts on https://10.0.0.1:6443 "
        "kubeconfig context: prod-eu "
        "changes wait for approval: restart_kube_proxy_pod (Slack channel C0123ABC / Prefect UI) "
        "changes made WITHOUT approval: patch_service (selector-drift)"
    )
    assert "SIMULATED" not in banner
    assert all(len(line) <= 79 for line in banner.splitlines() if line.startswith("  !!! "))


def test_without_slack_the_real_cluster_banner_says_approvals_wait_in_the_prefect_ui(
    tmp_path: Path, prod_kubeconfig: Path, catalog_dir: Path
) -> None:
    settings = EngineSettings(state_dir=tmp_path, kubeconfig=prod_kubeconfig)
    access = configured_cluster(settings)
    assert access is not None

    banner = prod_banner(settings, access, catalog_dir)

    assert "changes wait for approval: restart_kube_proxy_pod (Prefect UI)" in shouted(banner)
