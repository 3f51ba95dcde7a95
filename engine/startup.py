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
from engine.approvals.slack import SlackActions
from engine.approvals.sweeper import ApprovalSweeper
from engine.cluster_access import ClusterAccess, cluster_access
from engine.deployments import (
    DeploymentSpec,
    deployment_parameters,
    flows_by_deployment,
    parameter_checks,
    product_deployments,
    register_deployments,
)
from engine.dispatch.alert_record import ReceiverRecordChecker
from engine.dispatch.dispatcher import PrefectDispatcher
from engine.execution.executor import WarmExecutor
from engine.execution.heartbeats import watch_for_unresponsive_runs
from engine.handoff import RunLauncher
from engine.intake.alert_plan import catalog_matcher
from engine.intake.auth import WebhookAuth
from engine.intake.credentials import CredentialsError, webhook_auth
from engine.intake.receiver import NotReadyError, build_receiver
from engine.logs import configure_json_logging
from engine.prefect_server import PrefectServerError, prefect_api
from engine.settings import EngineSettings
from engine.signals import StopRequested, stop_on_signals
from flows.approval.notifier import LogNotifier
from flows.approval.slack import SlackNotifier
from flows.runtime import AlertmanagerChecker, AlertSources, FlowRuntime
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

    Needs a Prefect API (``PREFECT_API_URL``). Gives the executor the flows' runtime, and installs
    the automation that marks runs Crashed after ``unresponsive_after_seconds`` without a
    heartbeat (their engine died).

    Raises:
        CatalogError: the runbook catalog has a blocking problem.
    """
    catalog = load_catalog(known_deployments=deployment_parameters(specs))
    deployment_ids = await register_deployments(specs)
    await watch_for_unresponsive_runs(
        deployment_ids.values(), silent_seconds=unresponsive_after_seconds
    )
    runtime = FlowRuntime(
        kube_factory=lambda: connect(access.connection),
        alerts=AlertSources(
            record=ReceiverRecordChecker(deployment_ids.values()),
            alertmanager=AlertmanagerChecker(alertmanager_url) if alertmanager_url else None,
        ),
        notifier=slack.notifier() if slack else LogNotifier(),
        backup_dir=backup_dir,
    )
    executor = WarmExecutor(
        flows_by_deployment(specs, deployment_ids),
        heartbeat_seconds=heartbeat_seconds,
        runtime=runtime,
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
        approvers: Slack user and user group IDs who may answer requests whose runbook names
            no approvers; empty: anyone who can see the message.
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
        return SlackNotifier(
            self.channel(), ui_url=self.ui_url, default_approvers=tuple(sorted(self.approvers))
        )

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
            ui_url=self.ui_url,
        )
        return Route("/slack/interactions", actions.handle, methods=["POST"])


async def _check_kubernetes(kube: Kube) -> None:
    try:
        await asyncio.to_thread(kube.server_version)
    except KubeError as error:
        raise NotReadyError(f"Kubernetes API: {error}") from error


def slack_approvals(settings: EngineSettings, *, ui_url: str) -> SlackApprovals | None:
    """Slack approvals as the settings configure them (None: the Prefect UI only).

    With no approver list, says at start-up who may then answer.
    """
    credentials = settings.slack_credentials()
    if credentials is None:
        return None
    if not settings.slack_approver_ids:
        logger.warning(
            "RUNBOOKS_SLACK_APPROVERS is empty: anyone who can see the approvals channel %s "
            "(any workspace member, if it is public) may answer the requests of runbooks that "
            "name no approvers; set it to Slack user or user group IDs to limit that",
            credentials.channel,
        )
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
        f"  Prefect UI : {ui_address(api_url)}",
        f"  webhook    : {webhook}  (token in {settings.webhook_token_file})",
        f"  flows      : {', '.join(sorted(engine.deployment_ids))}",
        f"  approvals  : {_approvals_line(settings)}",
        "  try it     : runbooks fire ServiceDown --label namespace=shop --label service=web",
        bar,
    ]
    return "\n".join(lines)


def ui_address(api_url: str) -> str:
    """Where a person opens the Prefect UI: ``PREFECT_UI_URL`` when set, else beside the API.

    In a cluster the API URL is an in-cluster name nobody's browser resolves; the UI's public
    address (its Ingress) is then given as ``PREFECT_UI_URL``, as Prefect itself reads it.
    """
    return os.environ.get("PREFECT_UI_URL") or api_url.removesuffix("/api")


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
        with stop_on_signals():
            auth = webhook_auth(settings, generate=True)
            with (
                cluster_access(settings) as access,
                prefect_api(
                    settings.state_dir,
                    ui=True,
                    port=settings.prefect_port,
                    startup_timeout=settings.prefect_start_timeout_seconds,
                    allow_embedded_in_cluster=settings.allow_embedded_prefect,
                ) as api_url,
            ):
                return asyncio.run(_serve(settings, access, auth=auth, api_url=api_url))
    except StopRequested as stop:
        print(f"engine stopped ({stop.signal.name})", flush=True)
        return 0
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
        slack=slack_approvals(settings, ui_url=ui_address(api_url)),
        backup_dir=settings.backup_folder,
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
