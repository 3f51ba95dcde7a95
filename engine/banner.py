"""The banner ``runbooks up`` prints once everything listens: what the engine acts on, and how."""

from __future__ import annotations

import os
import textwrap
from collections.abc import Collection

from engine.cluster_access import ClusterAccess
from engine.settings import EngineSettings
from runbooks import ActionKind, ApprovalMode, Catalog
from runbooks.approval import SAFE_ACTIONS


def engine_banner(
    settings: EngineSettings,
    access: ClusterAccess,
    *,
    api_url: str,
    catalog: Catalog | None,
    flows: Collection[str],
    receiver_url: str,
) -> str:
    """What the operator needs to know once the engine is up (and listens on `receiver_url`).

    Args:
        settings: The engine's settings.
        access: The cluster it acts on.
        api_url: Prefect's API.
        catalog: The runbooks, for which changes wait for a human (None: not loaded).
        flows: The deployments registered.
        receiver_url: Where the webhook receiver listens.
    """
    bar = "=" * 78
    lines = [bar, "  service-runbooks engine is up", bar]
    if access.simulated:
        lines += [
            "  !!! SIMULATED CLUSTER: no Kubernetes cluster is configured, so the engine !!!",
            "  !!! works on a simulated one. Set RUNBOOKS_KUBECONFIG (or run in-cluster) !!!",
            "  !!! to work on a real cluster.                                            !!!",
            f"  kubectl    : kubectl --kubeconfig {access.admin_kubeconfig} get pods -A",
        ]
    else:
        lines += _loud(real_cluster_warning(settings, access, catalog))
    lines += [
        f"  cluster    : {access.description}",
        f"  Prefect UI : {ui_address(api_url)}",
        f"  webhook    : {receiver_url}/alertmanager  (token in {settings.webhook_token_file})",
        f"  flows      : {', '.join(sorted(flows))}",
        f"  approvals  : {_approvals_line(settings, receiver_url)}",
        "  try it     : runbooks fire ServiceDown --label namespace=shop --label service=web",
        bar,
    ]
    return "\n".join(lines)


def real_cluster_warning(
    settings: EngineSettings, access: ClusterAccess, catalog: Catalog | None
) -> list[str]:
    """What a real cluster's banner shouts: where changes go, and which wait for a human."""
    said = [
        f"REAL CLUSTER: the engine acts on {access.server or 'the configured API server'}",
        f"kubeconfig context: {access.context}"
        if access.context
        else f"configured by: {access.description}",
    ]
    if catalog is None:
        return said
    waiting, unattended = approval_summary(catalog)
    if waiting:
        where = _approval_places(settings)
        said.append(f"changes wait for approval: {', '.join(waiting)} ({where})")
    if unattended:
        made = ", ".join(f"{action} ({', '.join(names)})" for action, names in unattended.items())
        said.append(f"changes made WITHOUT approval: {made}")
    return said


def approval_summary(catalog: Catalog) -> tuple[list[str], dict[str, list[str]]]:
    """The changes the catalog's runbooks list in ``approval.actions``, by how they are approved.

    Returns:
        The kinds every runbook listing them waits for approval on, and the kinds some runbooks
        run unattended, with those runbooks' names (reads are left out: they change nothing).
    """
    waiting: list[str] = []
    unattended: dict[str, list[str]] = {}
    for action in ActionKind:
        if action in SAFE_ACTIONS:
            continue
        listing = [runbook for runbook in catalog if action in runbook.approval.actions]
        auto = [r.name for r in listing if r.approval.mode_for(action) is ApprovalMode.AUTO]
        if auto:
            unattended[action.value] = auto
        elif listing:
            waiting.append(action.value)
    return waiting, unattended


def _loud(sentences: list[str]) -> list[str]:
    # Framed like the simulated cluster's warning, so a real cluster is announced as loudly.
    width = 69
    lines = [
        line
        for text in sentences
        for line in textwrap.wrap(
            text,
            width,
            subsequent_indent="  ",
            break_long_words=False,  # a URL or an action's name stays whole, to be copied
            break_on_hyphens=False,
        )
    ]
    return [f"  !!! {line:<{width}} !!!" for line in lines]


def ui_address(api_url: str) -> str:
    """Where a person opens the Prefect UI: ``PREFECT_UI_URL`` when set, else beside the API.

    In a cluster the API URL is an in-cluster name nobody's browser resolves; the UI's public
    address (its Ingress) is then given as ``PREFECT_UI_URL``, as Prefect itself reads it.
    """
    return os.environ.get("PREFECT_UI_URL") or api_url.removesuffix("/api")


def _approvals_line(settings: EngineSettings, receiver_url: str) -> str:
    if settings.slack_channel is None:
        return "Prefect UI resume form (set RUNBOOKS_SLACK_* for Slack buttons)"
    callbacks = f"{receiver_url}/slack/interactions"
    return f"Slack channel {settings.slack_channel} (buttons call back {callbacks}) and Prefect UI"


def _approval_places(settings: EngineSettings) -> str:
    if settings.slack_channel is None:
        return "Prefect UI"
    return f"Slack channel {settings.slack_channel} / Prefect UI"
