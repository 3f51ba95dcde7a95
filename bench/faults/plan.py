"""One row: break a cluster, start the run, inject the fault at its point, approve, count."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime
from uuid import UUID

import httpx
from prefect.client.orchestration import PrefectClient, get_client
from prefect.client.schemas.objects import FlowRun

from bench.faults.alerts import AlertLedger, send_alert
from bench.faults.changes import DELETE_POD, Change
from bench.faults.matrix import Row, final_state_counts, is_named
from bench.faults.rig import FaultBench, Rig, RigOptions, rig
from bench.faults.runs import (
    approve,
    deployment_ids,
    forget,
    is_final,
    is_paused,
    settle,
    start_run,
    until,
)
from bench.faults.scenarios import FlowScenario
from tests.slack_fake import FakeSlack
from tests.slack_press import SIGNING_SECRET, press, requests_in

SLACK_CHANNEL = "C0123ABC"
PAUSE_WITHIN = 120.0


@dataclass(frozen=True)
class Plan:
    """How a row goes: the flow and its cluster, the engine's set-up, where the fault goes in.

    Attributes:
        case: The case's label in the table.
        scenario: The flow and its broken cluster.
        options: The engine's set-up.
        auto_approve: A drill: the run asks no one (else it waits for an approval).
        answer_in_slack: Approve by pressing the Slack button (else the Prefect UI form).
        before: Injects before the run starts.
        at_action: Injects right after the flow's first mending change is applied, on the API
            server's thread, before the engine has the answer (must only signal).
        after_action: Then, in the bench's loop (restart what ``at_action`` stopped).
        at_pause: Injects while the run waits for its approval, before it is answered.
        within: Seconds the row's runs have to end once started.
    """

    case: str
    scenario: FlowScenario
    options: RigOptions = field(default_factory=RigOptions)
    auto_approve: bool = True
    answer_in_slack: bool = False
    before: Callable[[Rig], None] | None = None
    at_action: Callable[[Rig, Change], None] | None = None
    after_action: Callable[[Rig], Awaitable[None]] | None = None
    at_pause: Callable[[Rig], Awaitable[None]] | None = None
    within: float = 240.0


@dataclass
class Started:
    """What a row sent: its alerts (and the answers), the runs the bench created, notes."""

    ledger: AlertLedger = field(default_factory=AlertLedger)
    by_bench: set[str] = field(default_factory=set)
    run_id: UUID | None = None
    notes: list[str] = field(default_factory=list)


async def run_plan(bench: FaultBench, plan: Plan, *, name: str) -> Row:
    """Drive one row and count what became of it.

    Args:
        bench: The shared parts.
        plan: The row.
        name: A folder name unique to the row.
    """
    cluster = plan.scenario.build()
    with rig(bench, cluster, options=plan.options, name=name) as parts:
        async with get_client() as client:
            wanted = list((await deployment_ids(client)).values())
            if plan.before is not None:
                plan.before(parts)
            fired = None
            if plan.at_action is not None:
                at_action = plan.at_action
                fired = parts.changes.when(
                    plan.scenario.acts, lambda change: at_action(parts, change)
                )
            began, began_at = time.monotonic(), datetime.now(UTC)
            started = await _start(client, parts, plan=plan)
            if fired is not None and plan.after_action is not None:
                if await asyncio.to_thread(fired.wait, plan.within):
                    await plan.after_action(parts)
                else:
                    started.notes.append("the injection point was never reached")
            if not plan.auto_approve and started.run_id is not None:
                await _answer(client, parts, plan=plan, started=started)
            runs = await settle(
                client, wanted, within=max(plan.within - (time.monotonic() - began), 10)
            )
            row = tally(
                case=plan.case,
                scenario=plan.scenario,
                parts=parts,
                started=started,
                runs=runs,
                began_at=began_at,
                began=began,
            )
            await forget(client, runs)
    return row


async def _start(client: PrefectClient, parts: Rig, *, plan: Plan) -> Started:
    started = Started()
    scenario = plan.scenario
    if scenario.alert is not None:
        async with httpx.AsyncClient(timeout=30) as http:
            await send_alert(
                http,
                f"{parts.url}/alertmanager",
                labels=scenario.alert,
                ledger=started.ledger,
                starts_at=datetime.now(UTC),
            )
        named = sorted(set().union(*started.ledger.acknowledged.values()))
        started.run_id = UUID(named[0]) if named else None
        return started
    deployment = await _deployment(client, scenario.deployment)
    parameters = {**scenario.parameters, "auto_approve": plan.auto_approve}
    started.run_id = await start_run(client, deployment, parameters=parameters)
    started.by_bench.add(str(started.run_id))
    return started


async def _deployment(client: PrefectClient, full_name: str) -> UUID:
    return UUID(str((await client.read_deployment_by_name(full_name)).id))


async def _answer(client: PrefectClient, parts: Rig, *, plan: Plan, started: Started) -> None:
    assert started.run_id is not None
    waiting = await until(
        client,
        started.run_id,
        done=lambda run: is_paused(run) or is_final(run),
        within=PAUSE_WITHIN,
    )
    if waiting is None or not is_paused(waiting):
        started.notes.append("the run never waited for approval")
        return
    if plan.at_pause is not None:
        await plan.at_pause(parts)
    if plan.answer_in_slack:
        assert parts.slack is not None
        await _press_approve(client, parts, slack=parts.slack, started=started)
        return
    if not await approve(client, started.run_id):
        started.notes.append("Prefect never accepted the approval")


async def _press_approve(
    client: PrefectClient, parts: Rig, *, slack: FakeSlack, started: Started
) -> None:
    """Press Approve on the run's request in Slack until the run goes on (at most 5 presses)."""
    assert started.run_id is not None
    url = f"{parts.url}/slack/interactions"
    for attempt in range(1, 6):
        asked = [
            call
            for call in requests_in(slack.calls("chat.postMessage"))
            if str(started.run_id) in str(call.body.get("blocks"))
        ]
        if not asked:
            await asyncio.sleep(1.0)
            continue
        answer = await press(url, asked[-1], "approve", secret=SIGNING_SECRET)
        resumed = await until(
            client, started.run_id, done=lambda run: not is_paused(run), within=10.0
        )
        if resumed is not None:
            if attempt > 1:
                started.notes.append(f"Slack press answered on attempt {attempt}")
            return
        started.notes.append(f"press {attempt}: HTTP {answer.status_code}")
    started.notes.append("no Slack press resumed the run")


def _slack_duplicates(slack: FakeSlack | None) -> int:
    """Approval requests shown more than once in the channel (by their buttons' value)."""
    if slack is None:
        return 0
    buttons = Counter(
        str(message["blocks"][-1]["elements"][0]["value"])
        for message in slack.messages(SLACK_CHANNEL)
        if message.get("blocks") and message["blocks"][-1].get("type") == "actions"
    )
    return sum(count - 1 for count in buttons.values())


def _message(run: FlowRun) -> str:
    return (run.state.message or "") if run.state is not None else ""


def _seconds(runs: Collection[FlowRun], *, began_at: datetime, began: float) -> float:
    ends = [run.end_time for run in runs if is_final(run) and run.end_time is not None]
    if ends and len(ends) == len(runs):
        return max(0.0, float((max(ends) - began_at).total_seconds()))
    return time.monotonic() - began


def tally(
    *,
    case: str,
    scenario: FlowScenario,
    parts: Rig,
    started: Started,
    runs: list[FlowRun],
    began_at: datetime,
    began: float,
) -> Row:
    """Count what became of a row's alerts, runs and changes.

    Args:
        case: The case's label.
        scenario: The flow (its name and expected named state).
        parts: The row's parts (their change log and fake Slack).
        started: The alerts sent and the runs the bench created.
        runs: Every run of the changing flows at the end.
        began_at: When the row's first alert or run went out (wall clock).
        began: The same, monotonic.
    """
    ledger = started.ledger
    alerts_lost, acknowledged_lost = ledger.lost(runs)
    existing = {str(run.id) for run in runs}
    twice = parts.changes.twice() + ledger.extra_runs(runs) + _slack_duplicates(parts.slack)
    notes = [parts.changes.summary()]
    attempts = parts.sim.cluster.requests.total(verb="delete", resource="pods")
    if attempts:
        applied = len(parts.changes.changes(DELETE_POD))
        notes.append(f"pod delete requests {attempts} (applied {applied})")
    if ledger.sent:
        notes.append(ledger.describe())
    if parts.slack is not None:
        calls = Counter(call.method for call in parts.slack.calls())
        notes.append("Slack calls: " + ", ".join(f"{m} x{n}" for m, n in sorted(calls.items())))
    stuck = [run for run in runs if not is_final(run)]
    if stuck:
        notes.append("left: " + ", ".join(sorted(str(run.state_name) for run in stuck)))
    odd = [run for run in runs if is_final(run) and not is_named(run)]
    unexpected = [run for run in runs if is_final(run) and run.state_name != scenario.expected]
    notes += [f"{run.state_name}: {_message(run)[:120]}" for run in unexpected]
    return Row(
        case=case,
        flow=scenario.flow,
        alerts_sent=len(ledger.sent),
        runs_created=len(runs),
        alerts_lost=alerts_lost,
        runs_lost=acknowledged_lost + len(started.by_bench - existing),
        actions_twice=twice,
        runs_not_final=len(stuck),
        unnamed=len(odd),
        final_states=final_state_counts(runs),
        expected=scenario.expected,
        changes=parts.changes.by_action(),
        seconds=_seconds(runs, began_at=began_at, began=began),
        notes="; ".join(notes + started.notes),
    )
