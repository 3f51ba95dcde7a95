"""deploy/alertmanager/alertmanager.yml passes amtool and routes the catalog's alerts right."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from runbooks import load_catalog

CONFIG = Path(__file__).resolve().parents[3] / "deploy" / "alertmanager" / "alertmanager.yml"


def _route() -> dict[str, Any]:
    config = yaml.safe_load(CONFIG.read_text())
    [route] = config["route"]["routes"]
    return dict(route)


def _webhook() -> dict[str, Any]:
    config = yaml.safe_load(CONFIG.read_text())
    [receiver] = [r for r in config["receivers"] if r["name"] == _route()["receiver"]]
    [webhook] = receiver["webhook_configs"]
    return dict(webhook)


@pytest.mark.skipif(shutil.which("amtool") is None, reason="amtool is not installed")
def test_amtool_accepts_the_config() -> None:
    amtool = shutil.which("amtool")
    assert amtool is not None
    checked = subprocess.run(
        [amtool, "check-config", str(CONFIG)], capture_output=True, text=True, timeout=60
    )

    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "SUCCESS" in checked.stdout


def test_the_route_groups_by_alert_and_service_and_lets_other_receivers_see_it() -> None:
    route = _route()

    assert route["group_by"] == ["alertname", "namespace", "service"]
    assert route["continue"] is True
    assert {"group_wait", "group_interval", "repeat_interval"} <= route.keys()


def _catalog_alertnames() -> list[str]:
    return sorted(
        runbook.match.labels["alertname"]
        for runbook in load_catalog().alert_driven
        if runbook.match is not None and "alertname" in runbook.match.labels
    )


def _routed_receiver(amtool: str, labels: dict[str, str]) -> str:
    tested = subprocess.run(
        [amtool, "config", "routes", "test", f"--config.file={CONFIG}"]
        + [f"{name}={value}" for name, value in labels.items()],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert tested.returncode == 0, tested.stdout + tested.stderr
    return tested.stdout.strip()


@pytest.mark.skipif(shutil.which("amtool") is None, reason="amtool is not installed")
@pytest.mark.parametrize("alertname", _catalog_alertnames())
def test_every_alert_the_catalog_handles_is_routed_to_the_engine(alertname: str) -> None:
    amtool = shutil.which("amtool")
    assert amtool is not None
    labels = {"alertname": alertname, "namespace": "prod", "service": "checkout"}

    assert _routed_receiver(amtool, labels) == "service-runbooks"


@pytest.mark.skipif(shutil.which("amtool") is None, reason="amtool is not installed")
def test_other_alerts_are_not_routed_to_the_engine() -> None:
    amtool = shutil.which("amtool")
    assert amtool is not None

    assert _routed_receiver(amtool, {"alertname": "DiskFull"}) == "default"


def test_the_webhook_sends_resolves_all_alerts_and_a_bearer_token_from_a_file() -> None:
    webhook = _webhook()

    assert webhook["url"].endswith("/alertmanager")
    assert webhook["send_resolved"] is True
    assert webhook["max_alerts"] == 0
    authorization = webhook["http_config"]["authorization"]
    assert authorization["type"] == "Bearer"
    assert authorization["credentials_file"].startswith("/")
    assert "credentials" not in authorization  # never a token in the config itself
