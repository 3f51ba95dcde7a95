"""``runbooks doctor``: check, before an incident does, that everything the flows need answers.

Each check says ok, MISS (with the fix) or skip (optional and not configured, with what it would
give). The exit code is 1 when anything is missing, so an install pipeline can gate on it.
"""

from __future__ import annotations

import argparse
import asyncio
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

import httpx

from engine.cluster_access import cluster_access
from engine.intake.credentials import CredentialsError, webhook_auth
from engine.prefect_server import API_URL_VARIABLE, EMBEDDED_IN_CLUSTER, in_kubernetes_pod
from engine.settings import EngineSettings
from flows.permissions import REQUIRED_ACCESS, AccessNeed
from integrations.alertmanager import AlertmanagerClient, AlertmanagerError
from integrations.kubernetes import ConfigurationError, Kube, KubeError, connect
from integrations.slack import SlackChannel, SlackCredentials, SlackError


class Status(StrEnum):
    """A check's verdict."""

    OK = "ok"
    MISS = "MISS"
    SKIP = "skip"


@dataclass(frozen=True, slots=True)
class Check:
    """One line of the doctor's table.

    Attributes:
        name: What was checked.
        status: The verdict.
        detail: What was found (a version, an identity) or, for a miss or a skip, the fix.
    """

    name: str
    status: Status
    detail: str


def render(checks: Sequence[Check]) -> str:
    """The table a person reads: one line per check, misses counted at the end."""
    width = max(len(check.name) for check in checks)
    lines = [f"{check.status.value:<4}  {check.name:<{width}}  {check.detail}" for check in checks]
    misses = sum(check.status is Status.MISS for check in checks)
    lines.append(f"{misses} missing" if misses else "everything the flows need answers")
    return "\n".join(lines)


def exit_code(checks: Iterable[Check]) -> int:
    """1 when any check missed, else 0."""
    return 1 if any(check.status is Status.MISS for check in checks) else 0


def check_webhook(settings: EngineSettings) -> Check:
    """Alertmanager's credentials for the webhook are set (a token or basic auth)."""
    name = "webhook credentials"
    try:
        auth = webhook_auth(settings)
    except CredentialsError as error:
        return Check(name, Status.MISS, str(error))
    given = (("bearer token", auth.bearer_token), ("basic auth", auth.basic))
    return Check(name, Status.OK, " and ".join(kind for kind, value in given if value) + " set")


def check_prefect(environ: dict[str, str], *, get: Callable[[str], httpx.Response]) -> Check:
    """The Prefect API in ``PREFECT_API_URL`` answers, and its version."""
    name = "Prefect API"
    api_url = environ.get(API_URL_VARIABLE)
    if not api_url:
        if in_kubernetes_pod(environ):
            return Check(name, Status.MISS, EMBEDDED_IN_CLUSTER)
        return Check(name, Status.SKIP, "PREFECT_API_URL unset: `runbooks up` starts a local one")
    try:
        response = get(f"{api_url.rstrip('/')}/admin/version")
        response.raise_for_status()
    except httpx.HTTPError as error:
        return Check(
            name,
            Status.MISS,
            f"{api_url} does not answer ({type(error).__name__}): check PREFECT_API_URL and "
            "that this host may reach it (NetworkPolicy, Service name)",
        )
    return Check(name, Status.OK, f"{api_url}, Prefect {response.json()}")


def check_kubernetes(kube: Kube, *, described: str) -> list[Check]:
    """The API server answers, and allows every call the flows make (`REQUIRED_ACCESS`)."""
    try:
        version = kube.server_version()
    except KubeError as error:
        return [Check("Kubernetes API", Status.MISS, f"{described}: {error}")]
    checks = [Check("Kubernetes API", Status.OK, f"{described}, {version}")]
    for need in REQUIRED_ACCESS:
        checks.append(_access_check(kube, need))
    return checks


def _access_check(kube: Kube, need: AccessNeed) -> Check:
    rule = need.rule
    where = f"in {rule.namespace}" if rule.namespace else "in every namespace"
    on = f"{rule.resource_path}/{need.name}" if need.name else rule.resource_path
    name = f"may {rule.verb} {on} {where}"
    try:
        allowed = kube.may(rule, name=need.name)
    except KubeError as error:
        return Check(name, Status.MISS, f"the access review failed: {error}")
    if allowed:
        return Check(name, Status.OK, need.needed_by)
    fix = rule.describe() + (f' with resourceNames=["{need.name}"]' if need.name else "")
    return Check(name, Status.MISS, f"{fix} (needed by {need.needed_by})")


def check_alertmanager(url: str | None) -> Check:
    """Alertmanager's API answers, so flows can re-check that their alert still fires."""
    name = "Alertmanager API"
    if not url:
        return Check(
            name,
            Status.SKIP,
            "RUNBOOKS_ALERTMANAGER_URL unset: flows re-check alerts in the engine's own record "
            "only, and scope counts no other firing alerts",
        )

    async def version() -> str:
        async with AlertmanagerClient(url) as alertmanager:
            return await alertmanager.version()

    try:
        return Check(name, Status.OK, f"{url}, Alertmanager {asyncio.run(version())}")
    except AlertmanagerError as error:
        return Check(name, Status.MISS, f"{error}: check RUNBOOKS_ALERTMANAGER_URL")


def check_slack(credentials: SlackCredentials | None) -> list[Check]:
    """The bot token works, and the bot can post to the approvals channel (posted, then deleted)."""
    if credentials is None:
        return [
            Check(
                "Slack",
                Status.SKIP,
                "RUNBOOKS_SLACK_* unset: approvals are answered in the Prefect UI only",
            )
        ]
    channel = SlackChannel(credentials.get_client(), credentials.channel)
    try:
        identity = channel.identity()
    except SlackError as error:
        return [Check("Slack token", Status.MISS, str(error))]
    checks = [Check("Slack token", Status.OK, f"bot {identity}")]
    name = f"Slack may post to {credentials.channel}"
    try:
        posted = channel.post("service-runbooks doctor: checking that approvals can be posted", [])
        channel.delete(posted)
    except SlackError as error:
        return [*checks, Check(name, Status.MISS, str(error))]
    return [*checks, Check(name, Status.OK, "posted a test message and deleted it")]


def run_doctor(args: argparse.Namespace, settings: EngineSettings) -> int:
    """Run every check, print the table, and return the exit code."""
    checks = [check_webhook(settings), check_prefect(dict(os.environ), get=_get)]
    try:
        with cluster_access(settings) as access, connect(access.connection) as kube:
            checks += check_kubernetes(kube, described=access.description)
    except ConfigurationError as error:
        checks.append(Check("Kubernetes API", Status.MISS, str(error)))
    checks.append(check_alertmanager(settings.alertmanager_url))
    checks += check_slack(settings.slack_credentials())
    print(render(checks))
    return exit_code(checks)


def _get(url: str) -> httpx.Response:
    return httpx.get(url, timeout=10.0)
