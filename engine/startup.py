"""``runbooks up``: compose the engine (cluster, Prefect, flows, receiver) and serve it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID

import uvicorn
from prefect.context import refresh_global_settings_context
from prometheus_client import CollectorRegistry
from starlette.applications import Starlette
from starlette.routing import Route

from engine.app import build_engine_app
from engine.approvals.coverage import CoverageRefresher
from engine.approvals.slack import SlackActions
from engine.approvals.sweeper import ApprovalSweeper
from engine.banner import engine_banner, ui_address
from engine.cluster_access import ClusterAccess, configured_cluster, simulated_cluster
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
from engine.listeners import (
    PortTakenError,
    claim_ports,
    receiver_listener,
    receiver_url,
    started_listeners,
)
from engine.logs import Progress, configure_logging
from engine.prefect_server import (
    API_URL_VARIABLE,
    PrefectServerError,
    ask_for_uncompressed_answers,
    prefect_api,
)
from engine.responsive import settle_for_serving
from engine.settings import EngineSettings
from engine.signals import StopRequested, stop_on_signals
from flows.approval.notifier import LogNotifier
from flows.approval.slack import SlackNotifier
from flows.incident.records import cluster_key
from flows.runtime import AlertmanagerChecker, AlertSources, FlowRuntime
from integrations.kubernetes import ConfigurationError, Kube, KubeError, connect
from integrations.slack import SlackChannel, SlackCredentials
from runbooks import Catalog, CatalogError, load_catalog

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Engine:
    """The assembled engine, ready to serve.

    Attributes:
        app: The ASGI application (receiver; executor and sweeper run in its lifespan).
        deployment_ids: The registered deployments by ``flow/deployment`` name.
        catalog: The runbook catalog alerts are matched with (None: not given, e.g. a bench's).
    """

    app: Starlette
    deployment_ids: dict[str, UUID]
    catalog: Catalog | None = None


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
    ask_for_uncompressed_answers()
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
    probe = connect(access.connection)
    cluster = cluster_key(probe.server)
    sweeper = ApprovalSweeper(
        deployment_ids.values(), coverage=CoverageRefresher(cluster, runtime.notifier)
    )
    dispatcher = PrefectDispatcher(
        deployment_ids,
        launcher=executor,
        parameter_checks=parameter_checks(specs),
        cluster=cluster,
    )
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
    return Engine(app=app, deployment_ids=deployment_ids, catalog=catalog)


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


def run_up(settings: EngineSettings) -> int:
    """Start everything on the embedded defaults and serve until interrupted.

    Says each start-up step on stderr as it goes, and the banner on stdout once all listens.

    Returns:
        The process exit code (2 for configuration errors, named with their fix).
    """
    progress = Progress(configure_logging(settings.log_format))
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    keep_results_in(settings.state_dir / "results")
    try:
        with stop_on_signals(), contextlib.ExitStack() as stack:
            auth = webhook_auth(settings, generate=True)
            configured = configured_cluster(settings)
            started = started_listeners(
                settings,
                simulated=configured is None,
                embedded_prefect=not os.environ.get(API_URL_VARIABLE),
            )
            receiver = stack.enter_context(claim_ports(receiver_listener(settings), started))
            access = configured or _start_simulated_cluster(settings, stack, progress)
            api_url = _start_prefect(settings, stack, progress)
            return asyncio.run(
                _serve(
                    settings,
                    access,
                    auth=auth,
                    api_url=api_url,
                    receiver=receiver,
                    progress=progress,
                )
            )
    except StopRequested as stop:
        print(f"engine stopped ({stop.signal.name})", flush=True)
        return 0
    except (
        CredentialsError,
        ConfigurationError,
        CatalogError,
        PrefectServerError,
        PortTakenError,
    ) as error:
        for line in str(error).splitlines():
            print(f"error: {line}", file=sys.stderr, flush=True)
        return 2


def _start_simulated_cluster(
    settings: EngineSettings, stack: contextlib.ExitStack, progress: Progress
) -> ClusterAccess:
    with progress.step(f"starting the simulated cluster ({settings.sim_nodes} nodes)") as step:
        access = stack.enter_context(simulated_cluster(settings))
        step.outcome = f"ready on {access.server}"
    return access


def _start_prefect(
    settings: EngineSettings, stack: contextlib.ExitStack, progress: Progress
) -> str:
    configured = os.environ.get(API_URL_VARIABLE)
    doing = (
        f"waiting for the Prefect API at {configured}" if configured else "starting Prefect server"
    )
    with progress.step(doing, done="ready"):
        return stack.enter_context(
            prefect_api(
                settings.state_dir,
                ui=True,
                port=settings.prefect_port,
                startup_timeout=settings.prefect_start_timeout_seconds,
                allow_embedded_in_cluster=settings.allow_embedded_prefect,
                announce=False,  # the progress line says it waits
            )
        )


class _Receiver(uvicorn.Server):
    """uvicorn, telling once it listens (its services started): the banner must not say before."""

    def __init__(self, config: uvicorn.Config, *, on_listening: Callable[[], None]) -> None:
        super().__init__(config)
        self._on_listening = on_listening

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        """Start the application's services and listen, then say so."""
        await super().startup(sockets=sockets)
        if self.started:
            self._on_listening()


async def _serve(
    settings: EngineSettings,
    access: ClusterAccess,
    *,
    auth: WebhookAuth,
    api_url: str,
    receiver: socket.socket,
    progress: Progress,
) -> int:
    slack = slack_approvals(settings, ui_url=ui_address(api_url))
    specs = product_deployments()
    with progress.step(f"registering {len(specs)} deployments"):
        engine = await assemble_engine(
            access=access,
            auth=auth,
            specs=specs,
            alertmanager_url=settings.alertmanager_url,
            heartbeat_seconds=settings.run_heartbeat_seconds,
            unresponsive_after_seconds=settings.unresponsive_after_seconds,
            slack=slack,
            backup_dir=settings.backup_folder,
        )
    settle_for_serving()
    url = receiver_url(settings, receiver)
    banner = engine_banner(
        settings,
        access,
        api_url=api_url,
        catalog=engine.catalog,
        flows=engine.deployment_ids,
        receiver_url=url,
    )
    # uvicorn serves the socket claimed before anything started: the port checked is the port
    # served, with no window for another process to take it meanwhile.
    config = uvicorn.Config(engine.app, lifespan="on", access_log=False, log_config=None)
    with progress.step("starting the webhook receiver", done=f"listening on {url}") as step:

        def listening() -> None:
            step.finish()
            print(banner, flush=True)

        await _Receiver(config, on_listening=listening).serve(sockets=[receiver])
    return 0
