"""``runbooks up``: compose the engine (cluster, Prefect, flows, receiver) and serve it."""

from __future__ import annotations

import asyncio
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID

import uvicorn
from prefect.context import refresh_global_settings_context
from prometheus_client import CollectorRegistry
from starlette.applications import Starlette
from starlette.routing import Route

from engine.app import build_engine_app
from engine.approvals import ApprovalSweeper, ReceiverRecordChecker
from engine.auth import WebhookAuth
from engine.cluster_access import ClusterAccess, cluster_access
from engine.credentials import CredentialsError, webhook_auth
from engine.deployments import (
    DeploymentSpec,
    deployment_parameters,
    flows_by_deployment,
    parameter_checks,
    register_deployments,
)
from engine.dispatch import PrefectDispatcher, RunLauncher
from engine.executor import WarmExecutor
from engine.intake import catalog_matcher
from engine.logs import configure_json_logging
from engine.prefect_server import PrefectServerError, prefect_api
from engine.receiver import NotReadyError, build_receiver
from engine.registry import product_deployments
from engine.settings import EngineSettings
from engine.slack_actions import SlackActions
from engine.unresponsive_runs import watch_for_unresponsive_runs
from flows.approval import LogNotifier
from flows.approval.slack import SlackNotifier
from flows.runtime import AlertmanagerChecker, AlertSources, FlowRuntime, install_runtime
from integrations.kubernetes import ConfigurationError, Kube, KubeError, connect
from integrations.slack import SlackChannel, SlackCredentials
from runbooks import CatalogError, load_catalog

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Engine:
    """The assembled engine, ready to serve.

    Attributes:
        app: The ASGI application (receiver; executor and sweeper run in its lifespan).
        deployment_ids: The registered deployments by ``flow/deployment`` name.
    """

    app: Starlette
    deployment_ids: dict[str, UUID]


async def assemble_engine(
    *,
    access: ClusterAccess,
    auth: WebhookAuth,
    specs: tuple[DeploymentSpec, ...],
    alertmanager_url: str | None = None,
    registry: CollectorRegistry | None = None,
    heartbeat_seconds: int = 30,
    unresponsive_after_seconds: int = 120,
    slack: SlackApprovals | None = None,
    backup_dir: Path | None = None,
) -> Engine:
    """Register the deployments and wire the receiver, dispatcher, executor and sweeper.

    Needs a Prefect API (``PREFECT_API_URL``). Installs the flows' runtime for this process,
    and the automation that marks runs Crashed after ``unresponsive_after_seconds`` without a
    heartbeat (their engine died).

    Raises:
        CatalogError: the runbook catalog has a blocking problem.
    """
    catalog = load_catalog(known_deployments=deployment_parameters(specs))
    deployment_ids = await register_deployments(specs)
    await watch_for_unresponsive_runs(
        deployment_ids.values(), silent_seconds=unresponsive_after_seconds
    )
    install_runtime(
        FlowRuntime(
            kube_factory=lambda: connect(access.connection),
            alerts=AlertSources(
                record=ReceiverRecordChecker(deployment_ids.values()),
                alertmanager=AlertmanagerChecker(alertmanager_url) if alertmanager_url else None,
            ),
            notifier=slack.notifier() if slack else LogNotifier(),
            backup_dir=backup_dir,
        )
    )
    executor = WarmExecutor(
        flows_by_deployment(specs, deployment_ids), heartbeat_seconds=heartbeat_seconds
    )
    sweeper = ApprovalSweeper(deployment_ids.values())
    dispatcher = PrefectDispatcher(
        deployment_ids, launcher=executor, parameter_checks=parameter_checks(specs)
    )
    probe = connect(access.connection)
    receiver = build_receiver(
        dispatcher=dispatcher,
        matcher=catalog_matcher(catalog),
        auth=auth,
        registry=registry or CollectorRegistry(),
        kubernetes_check=lambda: _check_kubernetes(probe),
    )

    async def close() -> None:
        await dispatcher.aclose()
        probe.close()

    routes = [slack.route(launcher=executor)] if slack else []
    app = build_engine_app(
        receiver, services=(executor, sweeper), on_shutdown=(close,), routes=routes
    )
    return Engine(app=app, deployment_ids=deployment_ids)


@dataclass(frozen=True)
class SlackApprovals:
    """Approvals in Slack: the notifier flows tell, and the route its buttons call back.

    Attributes:
        credentials: The Slack app's token, signing secret and channel.
        approvers: Slack user IDs allowed to answer; empty: anyone in the channel.
        ui_url: The Prefect UI, linked from each message.
    """

    credentials: SlackCredentials
    approvers: frozenset[str] = frozenset()
    ui_url: str | None = None

    def channel(self) -> SlackChannel:
        """The approvals channel, through a fresh Web API client."""
        return SlackChannel(self.credentials.get_client(), self.credentials.channel)

    def notifier(self) -> SlackNotifier:
        """What flows tell about requests and answers."""
        return SlackNotifier(self.channel(), ui_url=self.ui_url)

    def route(self, launcher: RunLauncher | None = None) -> Route:
        """``POST /slack/interactions``, the Slack app's Interactivity request URL.

        Args:
            launcher: Given each run a press resumed, so it goes on at once.
        """
        actions = SlackActions(
            signing_secret=self.credentials.signing_secret.get_secret_value(),
            channel=self.channel(),
            approvers=self.approvers,
            launcher=launcher,
        )
        return Route("/slack/interactions", actions.handle, methods=["POST"])


async def _check_kubernetes(kube: Kube) -> None:
    try:
        await asyncio.to_thread(kube.server_version)
    except KubeError as error:
        raise NotReadyError(f"Kubernetes API: {error}") from error


def _slack_approvals(settings: EngineSettings, *, ui_url: str) -> SlackApprovals | None:
    credentials = settings.slack_credentials()
    if credentials is None:
        return None
    return SlackApprovals(credentials, approvers=settings.slack_approver_ids, ui_url=ui_url)


def keep_results_in(folder: Path) -> None:
    """Persist flow results (assessed plans, finished steps) under the engine's state dir.

    A run resumed after an approval re-runs from the top and must find what it already did,
    also after the engine restarted; an explicit ``PREFECT_LOCAL_STORAGE_PATH`` (e.g. shared
    storage for several replicas) wins.
    """
    if "PREFECT_LOCAL_STORAGE_PATH" not in os.environ:
        os.environ["PREFECT_LOCAL_STORAGE_PATH"] = str(folder.resolve())
        refresh_global_settings_context()


def engine_banner(
    settings: EngineSettings, access: ClusterAccess, *, api_url: str, engine: Engine
) -> str:
    """What the operator needs to know once the engine is up."""
    bar = "=" * 78
    webhook = f"http://{settings.listen_host}:{settings.listen_port}/alertmanager"
    lines = [bar, "  service-runbooks engine is up", bar]
    if access.simulated:
        lines += [
            "  !!! SIMULATED CLUSTER: no Kubernetes cluster is configured, so the engine !!!",
            "  !!! works on a simulated one. Set RUNBOOKS_KUBECONFIG (or run in-cluster) !!!",
            "  !!! to work on a real cluster.                                            !!!",
            f"  kubectl    : kubectl --kubeconfig {access.admin_kubeconfig} get pods -A",
        ]
    lines += [
        f"  cluster    : {access.description}",
        f"  Prefect UI : {api_url.removesuffix('/api')}",
        f"  webhook    : {webhook}  (token in {settings.webhook_token_file})",
        f"  flows      : {', '.join(sorted(engine.deployment_ids))}",
        f"  approvals  : {_approvals_line(settings)}",
        "  try it     : runbooks fire ServiceDown --label namespace=shop --label service=web",
        bar,
    ]
    return "\n".join(lines)


def _approvals_line(settings: EngineSettings) -> str:
    if settings.slack_channel is None:
        return "Prefect UI resume form (set RUNBOOKS_SLACK_* for Slack buttons)"
    callbacks = f"http://{settings.listen_host}:{settings.listen_port}/slack/interactions"
    return f"Slack channel {settings.slack_channel} (buttons call back {callbacks}) and Prefect UI"


def run_up(settings: EngineSettings) -> int:
    """Start everything on the embedded defaults and serve until interrupted.

    Returns:
        The process exit code (2 for configuration errors, named with their fix).
    """
    configure_json_logging()
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    keep_results_in(settings.state_dir / "results")
    try:
        auth = webhook_auth(settings, generate=True)
        with (
            cluster_access(settings) as access,
            prefect_api(settings.state_dir, ui=True, port=settings.prefect_port) as api_url,
        ):
            return asyncio.run(_serve(settings, access, auth=auth, api_url=api_url))
    except (CredentialsError, ConfigurationError, CatalogError, PrefectServerError) as error:
        print(f"error: {error}")
        return 2


async def _serve(
    settings: EngineSettings, access: ClusterAccess, *, auth: WebhookAuth, api_url: str
) -> int:
    engine = await assemble_engine(
        access=access,
        auth=auth,
        specs=product_deployments(),
        alertmanager_url=settings.alertmanager_url,
        heartbeat_seconds=settings.run_heartbeat_seconds,
        unresponsive_after_seconds=settings.unresponsive_after_seconds,
        slack=_slack_approvals(settings, ui_url=api_url.removesuffix("/api")),
        backup_dir=settings.state_dir / "backups",
    )
    config = uvicorn.Config(
        engine.app,
        host=settings.listen_host,
        port=settings.listen_port,
        lifespan="on",
        access_log=False,
        log_config=None,
    )
    server = uvicorn.Server(config)
    print(engine_banner(settings, access, api_url=api_url, engine=engine), flush=True)
    await server.serve()
    return 0
