"""`runbooks doctor`: each check against the real thing, and a table that names every fix."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from pydantic import SecretStr

from engine.commands.doctor import (
    Check,
    Status,
    check_alertmanager,
    check_kubernetes,
    check_prefect,
    check_slack,
    check_webhook,
    exit_code,
    render,
)
from engine.settings import EngineSettings
from flows.permissions import REQUIRED_ACCESS
from integrations.kubernetes import KubeConnection, connect
from integrations.slack import SlackCredentials
from tests.e2e.alertmanager_process import find_alertmanager, running_alertmanager
from tests.slack_fake import FakeSlack

API = "http://prefect.example:4200/api"


def answered(status: int, body: object) -> httpx.Response:
    return httpx.Response(status, json=body, request=httpx.Request("GET", API))


def unreachable(url: str) -> httpx.Response:
    raise httpx.ConnectError("connection refused", request=httpx.Request("GET", url))


@pytest.mark.parametrize(
    ("environ", "get", "status", "says"),
    [
        ({}, unreachable, Status.SKIP, "starts a local one"),
        ({"KUBERNETES_SERVICE_HOST": "10.96.0.1"}, unreachable, Status.MISS, "overlays/with-pre"),
        ({"PREFECT_API_URL": API}, lambda url: answered(200, "3.4.1"), Status.OK, "3.4.1"),
        ({"PREFECT_API_URL": API}, unreachable, Status.MISS, "check PREFECT_API_URL"),
        ({"PREFECT_API_URL": API}, lambda url: answered(503, {}), Status.MISS, "HTTPStatusError"),
    ],
    ids=["local", "pod-without-api", "answers", "unreachable", "unavailable"],
)
def test_the_prefect_check_says_what_answers_and_what_to_fix(
    environ: dict[str, str], get: Callable[[str], httpx.Response], status: Status, says: str
) -> None:
    check = check_prefect(environ, get=get)

    assert check.status is status
    assert says in check.detail


@pytest.mark.parametrize(
    ("settings", "status", "says"),
    [
        ({"webhook_token": SecretStr("t0ken")}, Status.OK, "bearer token set"),
        ({"webhook_basic_user": "am"}, Status.MISS, "set both, or neither"),
        ({}, Status.MISS, "RUNBOOKS_WEBHOOK_TOKEN"),
    ],
    ids=["token", "half-basic", "nothing"],
)
def test_the_webhook_check_needs_credentials_alertmanager_can_send(
    tmp_path: Path, settings: dict[str, Any], status: Status, says: str
) -> None:
    check = check_webhook(EngineSettings(state_dir=tmp_path, **settings))

    assert check.status is status
    assert says in check.detail


def test_the_table_lists_every_check_and_counts_the_misses() -> None:
    checks = [
        Check("Prefect API", Status.OK, "Prefect 3.4.1"),
        Check("may delete pods in every namespace", Status.MISS, "add rule ..."),
        Check("Slack", Status.SKIP, "RUNBOOKS_SLACK_* unset"),
    ]

    assert render(checks).splitlines() == [
        "ok    Prefect API                         Prefect 3.4.1",
        "MISS  may delete pods in every namespace  add rule ...",
        "skip  Slack                               RUNBOOKS_SLACK_* unset",
        "1 missing",
    ]
    assert exit_code(checks) == 1
    assert exit_code([checks[0], checks[2]]) == 0


def test_the_engines_service_account_may_make_every_call_the_flows_make(
    engine_kubeconfig: Path,
) -> None:
    with connect(KubeConnection(kubeconfig=engine_kubeconfig)) as kube:
        checks = check_kubernetes(kube, described="simulated")

    assert [check for check in checks if check.status is not Status.OK] == []
    assert len(checks) == 1 + len(REQUIRED_ACCESS)


def test_a_missing_rule_is_named_with_the_role_to_add_it_to(
    sim_without_remediation: Path,
) -> None:
    with connect(KubeConnection(kubeconfig=sim_without_remediation)) as kube:
        misses = {
            c.name: c.detail
            for c in check_kubernetes(kube, described="simulated")
            if c.status is Status.MISS
        }

    assert "may delete pods in every namespace" in misses
    assert "verbs=[delete]" in misses["may delete pods in every namespace"]
    assert "ClusterRole" in misses["may delete pods in every namespace"]
    assert not any(name.startswith("may list") for name in misses)


@pytest.fixture
def sim_without_remediation(tmp_path: Path) -> Iterator[Path]:
    """A cluster where the engine has only deploy/rbac's read and kube-system rules."""
    from simcluster import DEPLOY_RBAC_DIR, RbacPolicy, SimServer, build_cluster

    documents = [
        yaml.safe_load(path.read_text())
        for path in sorted(DEPLOY_RBAC_DIR.glob("*.yaml"))
        if "remediate" not in path.name
    ]
    cluster = build_cluster(nodes=2)
    cluster.rbac = RbacPolicy.from_objects(documents)
    with SimServer(cluster) as server:
        yield server.write_kubeconfig(tmp_path / "engine.kubeconfig", user="engine")


def test_an_unset_alertmanager_is_skipped_with_what_it_would_give() -> None:
    check = check_alertmanager(None)

    assert check.status is Status.SKIP
    assert "RUNBOOKS_ALERTMANAGER_URL" in check.detail


def test_an_unreachable_alertmanager_is_a_miss() -> None:
    check = check_alertmanager("http://127.0.0.1:9")

    assert check.status is Status.MISS
    assert "RUNBOOKS_ALERTMANAGER_URL" in check.detail


def test_a_running_alertmanager_answers_with_its_version(tmp_path: Path) -> None:
    binary = find_alertmanager()
    if binary is None:
        pytest.skip("prometheus-alertmanager is not installed (scripts/test installs it)")
    with running_alertmanager(
        tmp_path, webhook_url="http://127.0.0.1:9/alertmanager", token="t", binary=binary
    ) as alertmanager:
        check = check_alertmanager(alertmanager.url)

    assert check.status is Status.OK
    assert "Alertmanager 0." in check.detail


def credentials(
    slack: FakeSlack, *, token: str = "xoxb-test", channel: str = "C0123ABC"
) -> SlackCredentials:
    return SlackCredentials(
        bot_token=SecretStr(token),
        signing_secret=SecretStr("secret"),
        channel=channel,
        api_url=slack.base_url,
    )


def test_slack_is_proven_by_a_test_message_that_is_deleted_again() -> None:
    with FakeSlack() as slack:
        checks = check_slack(credentials(slack))
        left_behind = slack.messages("C0123ABC")

    assert [check.status for check in checks] == [Status.OK, Status.OK]
    assert [call.method for call in slack.calls()] == [
        "auth.test",
        "chat.postMessage",
        "chat.delete",
    ]
    assert left_behind == []


@pytest.mark.parametrize(
    ("token", "channel", "fix"),
    [
        ("xoxb-revoked", "C0123ABC", "check RUNBOOKS_SLACK_BOT_TOKEN"),
        ("xoxb-test", "C0NOTHERE", "set RUNBOOKS_SLACK_CHANNEL to a channel ID"),
    ],
    ids=["bad-token", "unknown-channel"],
)
def test_a_slack_miss_names_the_setting_to_fix(token: str, channel: str, fix: str) -> None:
    with FakeSlack() as slack:
        checks = check_slack(credentials(slack, token=token, channel=channel))

    assert checks[-1].status is Status.MISS
    assert fix in checks[-1].detail


def test_unset_slack_is_skipped() -> None:
    assert [check.status for check in check_slack(None)] == [Status.SKIP]
