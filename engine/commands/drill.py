"""``runbooks drill``: break the simulated cluster and follow the loop until the alert resolves.

Fault -> a shipped rule fires in Prometheus -> Alertmanager -> the engine -> remediation -> the
rule stops firing (`engine.commands.stack`). The drill reads Prometheus' alerts, the runs in
Prefect (states, action tasks, report) and the engine's log (webhooks), and prints the judged
timeline (`engine.commands.drill_timeline`).
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx

from engine.commands.drill_timeline import (
    AlertFacts,
    DrillFacts,
    Judgement,
    RunFacts,
    Step,
    approval_steps,
    render,
)
from engine.commands.stack import DrillStack, StackError, StackOptions
from engine.prefect_server import PrefectServerError
from flows.run_identity import FINGERPRINT_TAG, runbook_of
from integrations.alertmanager.fingerprint import fingerprint_labels
from runbooks import load_catalog

#: The task runs that change the cluster: the checklist's mutations, the rollback's template.
ACTION_TASKS = ("perform ", "roll-back", "restore")
#: Once every run ended and the alert still fires, how long the cluster may take to converge.
SETTLE_SECONDS = 60.0
POLL_SECONDS = 0.25
Say = Callable[[str], None]


@dataclass(frozen=True)
class Scenario:
    """A drill, named as the fault it injects; ``follow_up``: the flow the checklist points at."""

    description: str
    follow_up: str | None = None


SCENARIOS = {
    "kube-proxy-down": Scenario(
        "kube-proxy wedged on two nodes: KubeProxyNodeDown each; the checklist restarts the pod"
    ),
    "selector-mismatch": Scenario(
        "shop/web selects app=web-v2: ServiceDown; the checklist proposes the selector fix"
    ),
    "bad-kube-proxy-rollout": Scenario(
        "a crashing kube-proxy image rolled out: KubeProxyNodeDown on the first updated node; "
        "the checklist points at the rollback, which the drill starts",
        follow_up="kube-proxy-rollback/kube-proxy-rollback",
    ),
}


def _now() -> datetime:
    return datetime.now(UTC)


def _subject(labels: dict[str, str]) -> str:
    if "service" in labels:
        return f"{labels.get('namespace', '')}/{labels['service']}"
    return f"node={labels['node']}" if "node" in labels else labels.get("instance", "")


class AlertWatch:
    """The alerts active since the fault, polled in a thread of its own: the drill's Prefect
    reads take a while on a busy machine, and would blur when an alert fired or resolved."""

    def __init__(self, read: Callable[[], list[dict[str, Any]]]) -> None:
        self._read = read
        self._alerts: dict[str, AlertFacts] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, name="drill-alerts", daemon=True)

    def __enter__(self) -> AlertWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _poll(self) -> None:
        while not self._stop.wait(POLL_SECONDS):
            try:
                self.update(self._read(), _now())
            except httpx.HTTPError:
                continue  # Prometheus busy: the next poll sees the same alerts

    def update(self, active: Iterable[dict[str, Any]], now: datetime) -> None:
        """Take Prometheus' active alerts at ``now``; a fired alert no longer listed resolved."""
        with self._lock:
            seen = set()
            for alert in active:
                labels = dict(alert["labels"])
                seen.add(fingerprint := fingerprint_labels(labels))
                known = self._alerts.get(fingerprint) or AlertFacts(
                    fingerprint,
                    labels["alertname"],
                    _subject(labels),
                    pending_at=datetime.fromisoformat(alert["activeAt"]),
                )
                if alert["state"] == "firing" and known.firing_at is None:
                    known = replace(known, firing_at=now)
                self._alerts[fingerprint] = replace(known, resolved_at=None)
            for fingerprint, known in self._alerts.items():
                if fingerprint not in seen and known.firing_at and known.resolved_at is None:
                    self._alerts[fingerprint] = replace(known, resolved_at=now)

    def alerts(self) -> tuple[AlertFacts, ...]:
        """Every alert seen so far."""
        with self._lock:
            return tuple(self._alerts.values())

    def fired(self) -> list[str]:
        """The fingerprints of the alerts that fired."""
        return [a.fingerprint for a in self.alerts() if a.firing_at is not None]

    def all_resolved(self) -> bool:
        """Whether some alert fired and every one that did has resolved."""
        fired = [a for a in self.alerts() if a.firing_at is not None]
        return bool(fired) and all(a.resolved_at is not None for a in fired)


def engine_log_facts(log: Path, since: datetime) -> tuple[dict[str, datetime], list[str]]:
    """From the engine's JSON log: when each alert first arrived firing, and why no run started."""
    webhooks: dict[str, datetime] = {}
    reasons: set[str] = set()
    for line in log.read_text(errors="replace").splitlines() if log.is_file() else []:
        try:
            entry = json.loads(line)
            at = datetime.fromisoformat(entry["time"])
        except (ValueError, KeyError, TypeError):
            continue  # the banner and other plain lines
        if at < since:
            continue
        if entry.get("message") == "alert received" and entry.get("status") == "firing":
            webhooks.setdefault(str(entry.get("fingerprint")), at)
        elif entry.get("suppressed") or entry.get("message") == "alert starts no runbook":
            reasons.add(str(entry.get("suppressed") or entry.get("detail")))
    return webhooks, sorted(reasons)


class PrefectRuns:
    """The runs the drill follows, through a (sync) Prefect client."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def of_alerts(self, fingerprints: list[str]) -> list[Any]:
        """The runs the engine created for these alerts (by their fingerprint tags)."""
        from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterTags

        tags = FlowRunFilterTags(any_=[FINGERPRINT_TAG + fp for fp in fingerprints])
        found = self._client.read_flow_runs(flow_run_filter=FlowRunFilter(tags=tags))
        return sorted(found, key=lambda run: run.created) if fingerprints else []

    def start(self, deployment: str, parameters: dict[str, Any]) -> Any:
        """Start a run of ``deployment`` as the Prefect UI's Run button does."""
        found = self._client.read_deployment_by_name(deployment)
        return self._client.create_flow_run_from_deployment(found.id, parameters=parameters)

    def report(self, run_id: UUID) -> str:
        """The run's latest report artifact (markdown), empty without one."""
        from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

        artifacts = self._client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[run_id]))
        )
        reports = [a for a in artifacts if a.key and "report" in a.key]
        return str(max(reports, key=lambda a: a.created).data) if reports else ""

    def facts(self, run_id: UUID, *, started_by_drill: bool) -> RunFacts:
        """What the run did: the states it entered, its approval, its actions, how it ended."""
        from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

        run = self._client.read_flow_run(run_id)
        name = runbook_of(run.tags) or self._client.read_flow(run.flow_id).name
        steps = [
            Step(s.timestamp, "state " + (_ending(s) if s.is_final() else str(s.name)))
            for s in self._client.read_flow_run_states(run_id)
            if s.type.value not in ("SCHEDULED", "PENDING")
        ]
        tasks = self._client.read_task_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run_id]))
        )
        actions = [t for t in tasks if t.name.startswith(ACTION_TASKS) and t.end_time]
        steps += [Step(t.end_time, f"action done: {t.name} ({t.state_name})") for t in actions]
        # Reports give times to the second; an approval is never asked before the run runs.
        running = min((s.at for s in steps if s.what == "state Running"), default=run.created)
        approval = [replace(s, at=max(s.at, running)) for s in approval_steps(self.report(run_id))]
        state = run.state
        return RunFacts(
            label=f"{name} ({run.name})",
            created_at=run.created,
            steps=(*steps, *approval),
            actions_done=tuple(t.end_time for t in actions),
            final_type=state.type.value if state and state.is_final() else None,
            outcome=_ending(state) if state else "",
            started_by_drill=started_by_drill,
        )


def _ending(state: Any) -> str:
    return f"{state.name}: {state.message}" if state.message else str(state.name)


def follow_up_note(deployment: str) -> str:
    """Why the drill starts ``deployment`` itself: which runbooks' alerts would, per the catalog."""
    routed = [rb.name for rb in load_catalog().alert_driven if rb.deployment == deployment]
    if routed:
        return f"{deployment} started by the drill (alerts route to it via {', '.join(routed)})"
    return (
        f"{deployment} started by the drill as the checklist advised: no alert routes to it "
        "(its runbooks are manual_only)"
    )


def drill(
    stack: DrillStack, name: str, *, timeout: float, interactive: bool = False, say: Say = print
) -> DrillFacts:
    """Inject the scenario's fault, follow the loop until it closes or ``timeout``, heal."""
    from prefect.client.orchestration import get_client

    scenario = SCENARIOS[name]
    stack.wait_quiet(within=timeout)
    fault_at = _now()
    details = stack.inject(name, {})
    followed: dict[UUID, bool] = {}  # run id -> started by the drill
    notes: list[str] = []
    shown: set[tuple[UUID, str]] = set()
    deadline, settled = time.monotonic() + timeout, None
    try:
        with get_client(sync_client=True) as client, AlertWatch(stack.alerts) as watch:
            runs = PrefectRuns(client)
            while time.monotonic() < deadline:
                for run in runs.of_alerts(watch.fired()):
                    followed.setdefault(run.id, False)
                current = [client.read_flow_run(run_id) for run_id in followed]
                for run in current if interactive else []:
                    _show(run, stack.ui_url, shown, say)
                ended = all(r.state is not None and r.state.is_final() for r in current)
                if watch.all_resolved() and ended:
                    break
                advice = scenario.follow_up if ended and current and not notes else None
                if advice and advice in runs.report(current[-1].id):
                    followed[runs.start(advice, {"auto_approve": not interactive}).id] = True
                    notes.append(follow_up_note(advice))
                    continue
                # Every run ended (or none started) and the alert still fires: a little longer
                # for the cluster to converge, then nothing more will happen.
                waiting = bool(watch.fired()) and ended
                settled = (settled or time.monotonic() + SETTLE_SECONDS) if waiting else None
                if settled is not None and time.monotonic() > settled:
                    break
                time.sleep(POLL_SECONDS)
            facts = [runs.facts(run_id, started_by_drill=by) for run_id, by in followed.items()]
    finally:
        stack.heal()
    webhooks, reasons = engine_log_facts(stack.engine_log, fault_at)
    alerts = tuple(
        firing_no_later_than(alert, webhooks.get(alert.fingerprint)) for alert in watch.alerts()
    )
    return DrillFacts(
        scenario=name,
        description=scenario.description,
        fault=f"{name} {json.dumps(details)}",
        fault_at=fault_at,
        alerts=alerts,
        webhooks=webhooks,
        runs=tuple(facts),
        no_run_reasons=tuple(reasons),
        waited_seconds=(_now() - fault_at).total_seconds(),
        follow_up_expected=scenario.follow_up is not None,
        notes=tuple(notes),
    )


def firing_no_later_than(alert: AlertFacts, webhook: datetime | None) -> AlertFacts:
    """Alertmanager hears only of firing alerts: a webhook before the watch saw the alert firing
    means the poll was late, and the alert fired by the webhook's time at the latest."""
    if alert.firing_at is None or webhook is None or webhook >= alert.firing_at:
        return alert
    return replace(alert, firing_at=webhook)


def _show(run: Any, ui_url: str, shown: set[tuple[UUID, str]], say: Say) -> None:
    """Tell a human following along where each run is, and when one waits for their approval."""
    state = run.state.type.value if run.state else ""
    if (run.id, state) in shown or state not in ("RUNNING", "PAUSED"):
        return
    shown.add((run.id, state))
    where = f"{ui_url}/runs/flow-run/{run.id}"
    if state == "PAUSED":
        say(f"  APPROVAL NEEDED: {run.name} waits for you: open {where} and answer the form")
    else:
        say(f"  run {run.name} is running: {where}")


def run_drill(args: argparse.Namespace) -> int:
    """``runbooks drill SCENARIO`` / ``--all``: one stack, each drill judged; exit 1 on a miss."""
    if not args.all and args.scenario not in SCENARIOS:
        print(f"error: name a scenario ({', '.join(SCENARIOS)}) or --all")
        return 2
    folder = Path(args.state_dir or tempfile.mkdtemp(prefix="runbooks-drill-"))
    options = StackOptions(
        state_dir=folder,
        nodes=args.nodes,
        scale=args.for_scale,
        auto_approve=not args.interactive,
        ui=args.interactive,
    )
    try:
        stack = DrillStack(options).start()
    except (StackError, PrefectServerError, ValueError) as error:
        print(f"error: {error}")
        return 2
    judgements: list[Judgement] = []
    try:
        print(f"stack up: Prometheus {stack.prometheus_url}, Alertmanager {stack.alertmanager_url}")
        print(f"          engine {stack.engine_url}, Prefect UI {stack.ui_url}; state in {folder}")
        for name in list(SCENARIOS) if args.all else [args.scenario]:
            facts = drill(stack, name, timeout=args.timeout, interactive=args.interactive)
            lines, judgement = render(facts, stack.timings, scale=args.for_scale)
            print("\n".join(lines), flush=True)
            judgements.append(judgement)
    except (StackError, OSError, httpx.HTTPError) as error:
        judgements.append(Judgement(False, str(error)))
        print(f"error: {error}")
    finally:
        stack.close()
    if all(j.passed for j in judgements):
        if args.state_dir is None:
            shutil.rmtree(folder, ignore_errors=True)
        return 0
    print(f"logs kept in {folder}")
    return 1
