"""The checklist's engine harness: what the engine's composition root does, for the flow tests.

It installs the flow runtime (the engine user's kubeconfig, the receiver's record as alert
source, a recording notifier) and runs the warm executor and the approval sweeper, which a test
may stop and start again, as an engine restart does.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

from prefect import Flow
from prefect.client.orchestration import PrefectClient
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey
from prefect.client.schemas.objects import FlowRun, State, StateType
from prefect.client.schemas.sorting import ArtifactSort

from engine.approvals.coverage import CoverageRefresher
from engine.approvals.sweeper import ApprovalSweeper
from engine.dispatch.alert_record import AlertResolution, ReceiverRecordChecker, record_resolution
from engine.execution.executor import WarmExecutor
from engine.handoff import RunRequest
from flows.approval import ApprovalAnswer, ApprovalRequest, RunEnding, RunSubject, StepNote
from flows.checklist.flow import DEPLOYMENT_NAME, FLOW_NAME, service_checklist
from flows.checklist.report import report_key
from flows.incident.records import cluster_key
from flows.run_identity import run_labels, run_tags
from flows.runtime import AlertSources, FlowRuntime
from integrations.kubernetes import KubeConnection, connect
from simcluster import resources
from simcluster.cluster import SimCluster
from simcluster.server import SimServer
from tests.prefect_runs import create_run_by_hand

MUTATING_VERBS = ("create", "update", "patch", "delete", "deletecollection")
DEPLOYMENT = f"{FLOW_NAME}/{DEPLOYMENT_NAME}"


@dataclass(frozen=True)
class AlertEpisodeRef:
    """One firing alert episode, as Alertmanager identifies it."""

    alertname: str
    fingerprint: str
    starts_at: datetime


@dataclass
class RecordingNotifier:
    """A notifier that remembers what it was told."""

    requested: list[ApprovalRequest] = field(default_factory=list)
    updated: list[ApprovalRequest] = field(default_factory=list)
    decided: list[tuple[ApprovalRequest, ApprovalAnswer]] = field(default_factory=list)
    steps: list[StepNote] = field(default_factory=list)
    endings: list[RunEnding] = field(default_factory=list)

    def approval_requested(self, run: RunSubject, request: ApprovalRequest) -> None:
        """Remember the request."""
        self.requested.append(request)

    def approval_updated(self, run: RunSubject, request: ApprovalRequest) -> None:
        """Remember the request as updated."""
        self.updated.append(request)

    def approval_decided(
        self, run: RunSubject, request: ApprovalRequest, answer: ApprovalAnswer
    ) -> None:
        """Remember the answer."""
        self.decided.append((request, answer))

    def step_done(self, run: RunSubject, step: StepNote) -> None:
        """Remember the step."""
        self.steps.append(step)

    def run_finished(self, run: RunSubject, ending: RunEnding) -> None:
        """Remember the ending."""
        self.endings.append(ending)


@dataclass
class ChecklistEngine:
    """The engine's part for the checklist: runtime, executor and sweeper, over one cluster."""

    sim: SimServer
    kubeconfig: Path
    deployment_id: UUID
    client: PrefectClient
    notifier: RecordingNotifier = field(default_factory=RecordingNotifier)
    flow: Flow[..., Any] = service_checklist
    report_key_of: Callable[[str], str] = report_key
    executor: WarmExecutor | None = None
    sweeper: ApprovalSweeper | None = None

    async def start(self) -> None:
        """Start an executor (with the flows' runtime) and a sweeper (a fresh engine)."""
        connection = KubeConnection(kubeconfig=self.kubeconfig)
        runtime = FlowRuntime(
            kube_factory=lambda: connect(connection),
            alerts=AlertSources(record=ReceiverRecordChecker([self.deployment_id])),
            notifier=self.notifier,
            poll_interval_seconds=0.1,
        )
        self.executor = WarmExecutor(
            {self.deployment_id: self.flow}, poll_interval=1.0, shutdown_grace=5, runtime=runtime
        )
        await self.executor.start()
        coverage = CoverageRefresher(self.cluster, self.notifier)
        self.sweeper = ApprovalSweeper([self.deployment_id], interval=0.2, coverage=coverage)
        await self.sweeper.start()

    @property
    def cluster(self) -> str:
        """The cluster's key, as the engine computes it (its incidents are per cluster)."""
        with connect(KubeConnection(kubeconfig=self.kubeconfig)) as kube:
            return cluster_key(kube.server)

    async def stop(self) -> None:
        """Stop the sweeper and the executor (what an engine shutdown does)."""
        if self.sweeper is not None:
            await self.sweeper.stop()
        if self.executor is not None:
            await self.executor.stop()
        self.sweeper = self.executor = None

    async def start_run(self, *, runbook: str | None = None, **parameters: Any) -> UUID:
        """Start a run of the deployment, as the dispatcher (with a runbook) or a human does."""
        tags = [f"runbook:{runbook}"] if runbook else []
        run = await create_run_by_hand(
            self.client, self.deployment_id, parameters=parameters, tags=tags
        )
        self._launch(run)
        return run.id

    async def start_alert_run(
        self,
        alert: AlertEpisodeRef,
        *,
        runbook: str,
        labels: dict[str, str] | None = None,
        **parameters: Any,
    ) -> UUID:
        """Start a run for `alert` (with its `labels`) tagged and labelled as the dispatcher."""
        request = RunRequest(
            runbook=runbook,
            deployment=DEPLOYMENT,
            parameters={
                **parameters,
                "alertname": alert.alertname,
                "alert_fingerprint": alert.fingerprint,
                "alert_starts_at": alert.starts_at.isoformat(),
            },
            idempotency_key=f"{runbook}:{alert.fingerprint}:{alert.starts_at.isoformat()}",
            alert_fingerprint=alert.fingerprint,
            alert_starts_at=alert.starts_at,
            alertname=alert.alertname,
            labels=labels or {},
        )
        run_label_values: dict[str, bool | int | float | str] = dict(run_labels(request))
        run = await create_run_by_hand(
            self.client,
            self.deployment_id,
            parameters=dict(request.parameters),
            tags=run_tags(request),
            labels=run_label_values,
        )
        self._launch(run)
        return run.id

    def _launch(self, run: FlowRun) -> None:
        # As the dispatcher does: a new run goes to the executor at once, not at its next poll.
        if self.executor is not None:
            self.executor.launch(run)

    async def resolve(self, alert: AlertEpisodeRef) -> None:
        """Record the alert's resolution, as the receiver does on a resolved notification."""
        await record_resolution(
            self.client,
            AlertResolution(
                alertname=alert.alertname,
                fingerprint=alert.fingerprint,
                starts_at=alert.starts_at,
                ends_at=datetime.now(UTC),
            ),
        )

    async def wait_for(
        self, flow_run_id: UUID, *, paused: bool = False, within: float = 60
    ) -> State[Any]:
        """Wait until the run is final (or Paused, when asked); its state then."""
        deadline = time.monotonic() + within
        while True:
            run = await self.client.read_flow_run(flow_run_id)
            state = run.state
            if state is not None and (
                state.is_final() or (paused and state.type is StateType.PAUSED)
            ):
                return state
            if time.monotonic() > deadline:
                raise AssertionError(f"run {flow_run_id} still {state} after {within}s")
            await asyncio.sleep(0.1)

    async def answer(
        self, flow_run_id: UUID, *, approve: bool, by: str = "alice", reason: str = ""
    ) -> None:
        """Answer the run's approval through Prefect's API (what the UI's resume form sends).

        Prefect marks a run Suspended a moment before it saves the form's schema, and refuses
        a resume in between; a human never answers that fast, a test does, so it tries again.
        """
        for _ in range(50):
            result = await self.client.resume_flow_run(
                flow_run_id, run_input={"approve": approve, "by": by, "reason": reason}
            )
            details = getattr(result.details, "reason", "") or ""
            if result.status.value != "REJECT" or "schema not found" not in details:
                break
            await asyncio.sleep(0.1)
        assert result.status.value == "ACCEPT", result

    async def report(self, flow_run_id: UUID, *, key: str | None = None) -> str:
        """The latest version of the run's report artifact (or of the artifact ``key``)."""
        key = key or self.report_key_of(str(flow_run_id))
        artifacts = await self.client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[key])),
            sort=ArtifactSort.CREATED_DESC,
            limit=1,
        )
        assert artifacts, f"no artifact {key} for run {flow_run_id}"
        return str(artifacts[0].data)

    def mutations(self) -> int:
        """Mutating API requests the cluster has served so far."""
        requests = self.sim.cluster.requests
        return sum(requests.total(verb=verb) for verb in MUTATING_VERBS)


def engine_for(
    sim: SimServer,
    tmp_path: Path,
    deployment_id: UUID,
    client: PrefectClient,
    **options: Any,
) -> ChecklistEngine:
    """A (not yet started) engine over `sim`, acting as the engine's ServiceAccount.

    ``options`` are `ChecklistEngine` fields, e.g. another ``flow`` and its ``report_key_of``.
    """
    kubeconfig = sim.write_kubeconfig(tmp_path / "engine.kubeconfig", user="engine")
    return ChecklistEngine(
        sim=sim, kubeconfig=kubeconfig, deployment_id=deployment_id, client=client, **options
    )


def crash_looping_nodes(cluster: SimCluster) -> set[str]:
    """The nodes whose kube-proxy pod crash-loops now."""
    pods = cluster.store.list_objects(resources.PODS, namespace="kube-system")
    return {
        pod["spec"]["nodeName"]
        for pod in pods
        if any(
            (status.get("state") or {}).get("waiting", {}).get("reason") == "CrashLoopBackOff"
            for status in (pod.get("status") or {}).get("containerStatuses") or []
        )
    }
