"""Both Alertmanager styles send the catalog's alerts to the engine, with the engine's token.

deploy/alertmanager/alertmanager.yml (a configuration file) and alertmanagerconfig.yaml (a
prometheus-operator AlertmanagerConfig) must say the same thing; the token must be the copy of
the Secret deploy/base generates. tests/integrations/alertmanager checks the file's routing.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from runbooks import load_catalog
from tests.deploy.manifests import BASE_DIR, DEPLOY, load_manifests, only, yaml_documents

ALERTMANAGER = DEPLOY / "alertmanager"
FILE_CONFIG: dict[str, Any] = yaml.safe_load((ALERTMANAGER / "alertmanager.yml").read_text())
[RESOURCE] = yaml_documents(ALERTMANAGER / "alertmanagerconfig.yaml")
[TOKEN_SECRET] = [
    g
    for g in yaml.safe_load((BASE_DIR / "kustomization.yaml").read_text())["secretGenerator"]
    if g["name"] == "service-runbooks-webhook"
]
AMTOOL = shutil.which("amtool")

#: The resource's route and webhook fields, and the configuration file's names for them.
ROUTE_FIELDS = {
    "receiver": "receiver",
    "groupBy": "group_by",
    "groupWait": "group_wait",
    "groupInterval": "group_interval",
    "repeatInterval": "repeat_interval",
    "continue": "continue",
}
WEBHOOK_FIELDS = {"url": "url", "sendResolved": "send_resolved", "maxAlerts": "max_alerts"}


def file_route() -> dict[str, Any]:
    """The configuration file's route to the engine."""
    [route] = FILE_CONFIG["route"]["routes"]
    return dict(route)


def file_webhook() -> dict[str, Any]:
    """The configuration file's webhook to the engine."""
    [receiver] = [r for r in FILE_CONFIG["receivers"] if r["name"] == file_route()["receiver"]]
    [webhook] = receiver["webhook_configs"]
    return dict(webhook)


def resource_webhook() -> dict[str, Any]:
    """The AlertmanagerConfig's webhook to the engine."""
    route = RESOURCE["spec"]["route"]
    [receiver] = [r for r in RESOURCE["spec"]["receivers"] if r["name"] == route["receiver"]]
    [webhook] = receiver["webhookConfigs"]
    return dict(webhook)


def matcher_text(matcher: dict[str, str]) -> str:
    """An AlertmanagerConfig matcher as a configuration file writes it."""
    return f'{matcher["name"]}{matcher.get("matchType", "=")}"{matcher["value"]}"'


def token_key_and_file() -> tuple[str, str]:
    """The key of the engine's token Secret and the file it is generated from."""
    [entry] = TOKEN_SECRET["files"]
    key, _, path = str(entry).partition("=")
    return key, path


def test_the_resource_is_prometheus_operators_alertmanager_config_in_its_namespace() -> None:
    assert RESOURCE["apiVersion"] == "monitoring.coreos.com/v1alpha1"
    assert RESOURCE["kind"] == "AlertmanagerConfig"
    assert RESOURCE["metadata"]["namespace"] == "monitoring"
    assert RESOURCE["spec"]["route"]["receiver"] in {
        r["name"] for r in RESOURCE["spec"]["receivers"]
    }


@pytest.mark.parametrize(("resource_field", "file_field"), ROUTE_FIELDS.items())
def test_both_styles_group_and_time_the_route_alike(resource_field: str, file_field: str) -> None:
    assert RESOURCE["spec"]["route"][resource_field] == file_route()[file_field]


def catalog_alertnames() -> list[str]:
    """Every alertname a runbook of the shipped catalog starts on (regex alternations split)."""
    names = []
    for runbook in load_catalog().alert_driven:
        assert runbook.match is not None
        if "alertname" in runbook.match.labels:
            names.append(runbook.match.labels["alertname"])
        if "alertname" in runbook.match.labels_regex:
            pattern = runbook.match.labels_regex["alertname"].pattern
            assert re.fullmatch(r"\w+(\|\w+)*", pattern), f"spell out {pattern} here"
            names += pattern.split("|")
    return sorted(names)


@pytest.mark.parametrize("alertname", catalog_alertnames())
def test_every_alert_the_catalog_starts_a_runbook_on_is_routed_to_the_engine(
    alertname: str,
) -> None:
    [matcher] = RESOURCE["spec"]["route"]["matchers"]

    assert matcher["name"] == "alertname"
    assert matcher["matchType"] == "=~"
    # Alertmanager anchors its regular expressions at both ends.
    assert re.fullmatch(matcher["value"], alertname)


def test_both_styles_route_the_same_alerts() -> None:
    matchers = [matcher_text(m) for m in RESOURCE["spec"]["route"]["matchers"]]

    assert matchers == file_route()["matchers"]


@pytest.mark.parametrize(("resource_field", "file_field"), WEBHOOK_FIELDS.items())
def test_both_styles_post_alike(resource_field: str, file_field: str) -> None:
    assert resource_webhook()[resource_field] == file_webhook()[file_field]


def test_the_webhook_posts_to_the_engines_service() -> None:
    service = only(load_manifests(BASE_DIR), "Service")
    url = urlsplit(file_webhook()["url"])
    metadata = service["metadata"]

    assert url.hostname == f"{metadata['name']}.{metadata['namespace']}.svc"
    assert url.port in {port["port"] for port in service["spec"]["ports"]}
    assert url.path == "/alertmanager"


def test_the_resource_reads_the_token_from_the_copy_of_the_engines_secret() -> None:
    key, _ = token_key_and_file()
    authorization = resource_webhook()["httpConfig"]["authorization"]

    assert authorization["type"] == "Bearer"
    assert authorization["credentials"] == {"name": TOKEN_SECRET["name"], "key": key}


def test_the_file_reads_the_token_where_the_operator_mounts_that_copy() -> None:
    key, _ = token_key_and_file()
    authorization = file_webhook()["http_config"]["authorization"]

    assert authorization["credentials_file"] == (
        f"/etc/alertmanager/secrets/{TOKEN_SECRET['name']}/{key}"
    )


def test_the_readme_copies_the_secret_under_the_same_name_and_key_from_the_same_file() -> None:
    key, path = token_key_and_file()
    readme = " ".join((ALERTMANAGER / "README.md").read_text().replace("\\\n", " ").split())

    assert (
        f"kubectl -n monitoring create secret generic {TOKEN_SECRET['name']} "
        f"--from-file={key}=deploy/base/{path}"
    ) in readme


def resource_as_file(credentials_file: Path) -> dict[str, Any]:
    """The AlertmanagerConfig written as an Alertmanager configuration file."""
    route = RESOURCE["spec"]["route"]
    webhook = resource_webhook()
    return {
        "route": {
            "receiver": "default",
            "routes": [
                {
                    **{name: route[field] for field, name in ROUTE_FIELDS.items()},
                    "matchers": [matcher_text(m) for m in route["matchers"]],
                }
            ],
        },
        "receivers": [
            {"name": "default"},
            {
                "name": route["receiver"],
                "webhook_configs": [
                    {
                        **{name: webhook[field] for field, name in WEBHOOK_FIELDS.items()},
                        "http_config": {
                            "authorization": {
                                "type": webhook["httpConfig"]["authorization"]["type"],
                                "credentials_file": str(credentials_file),
                            }
                        },
                    }
                ],
            },
        ],
    }


def amtool_check(config: Path) -> subprocess.CompletedProcess[str]:
    """``amtool check-config`` on a configuration file."""
    assert AMTOOL is not None
    return subprocess.run(
        [AMTOOL, "check-config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.skipif(AMTOOL is None, reason="amtool is not installed")
def test_amtool_accepts_the_configuration_file() -> None:
    checked = amtool_check(ALERTMANAGER / "alertmanager.yml")

    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "SUCCESS" in checked.stdout


@pytest.mark.skipif(AMTOOL is None, reason="amtool is not installed")
def test_amtool_accepts_the_resource_as_the_configuration_it_stands_for(tmp_path: Path) -> None:
    config = tmp_path / "alertmanager.yml"
    config.write_text(yaml.safe_dump(resource_as_file(tmp_path / "token")))

    checked = amtool_check(config)

    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "SUCCESS" in checked.stdout
