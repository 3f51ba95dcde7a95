"""A burst of ServiceDown alerts (sent as Alertmanager does, or through it), a fault partway."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime
from uuid import UUID

import httpx
from prefect.client.orchestration import PrefectClient, get_client
from prefect.client.schemas.objects import FlowRun

from bench.faults.alerts import AlertLedger, send_alert
from bench.faults.changes import DELETE_POD, Change
from bench.faults.matrix import Row
from bench.faults.plan import Started, tally
from bench.faults.rig import FaultBench, RigOptions, rig
from bench.faults.runs import deployment_ids, forget, runs_of, settle
from bench.faults.scenarios import FlowScenario, healthy_services
from flows.checklist.flow import DEPLOYMENT_NAME, FLOW_NAME
from integrations.alertmanager.fingerprint import fingerprint_labels
from tests.e2e.alertmanager_process import find_alertmanager, running_alertmanager
from tests.e2e.prometheus_alerts import prometheus_alert
from tests.e2e.served_engine import TOKEN
from tests.e2e.storm import service_down_labels

ALERTS = 16
RATE = 4.0
#: The fault goes in before this alert is sent (a quarter into the burst).
INJECT_BEFORE = 4
WITHIN = 300.0


#: Alertmanager's route: fast groups, every firing group repeated every couple of seconds.
ROUTE = {"group_wait": "1s", "group_interval": "1s", "repeat_interval": "2s"}


def _deletes_a_pod(change: Change) -> bool:
    return change.action == DELETE_POD


def _healthy_checklists(services: tuple[str, ...]) -> FlowScenario:
    return FlowScenario(
        flow=FLOW_NAME,
        deployment=f"{FLOW_NAME}/{DEPLOYMENT_NAME}",
        expected="NothingToDo",
        build=healthy_services(services),
        acts=_deletes_a_pod,
    )


async def alert_burst(
    bench: FaultBench,
    *,
    case: str,
    name: str,
    inject: Callable[[], object],
    alerts: int = ALERTS,
    rate: float = RATE,
) -> Row:
    """Send ``alerts`` alerts at ``rate`` per second, ``inject`` partway; count the row.

    Args:
        bench: The shared parts.
        case: The case's label.
        name: A folder name unique to the row.
        inject: Injects the fault (and returns at once, or once it is in force).
        alerts: How many alerts (each a Service of its own, healthy: its run finds nothing).
        rate: Alerts per second, open loop.
    """
    services = tuple(f"burst-{index}" for index in range(alerts))
    scenario = _healthy_checklists(services)
    started = Started()
    with rig(bench, scenario.build(), options=RigOptions(), name=name) as parts:
        async with get_client() as client, httpx.AsyncClient(timeout=30) as http:
            wanted = list((await deployment_ids(client)).values())
            webhook = f"{parts.url}/alertmanager"
            starts_at = datetime.now(UTC)
            began, began_at = time.monotonic(), datetime.now(UTC)
            sends: list[asyncio.Task[bool]] = []
            for index, service in enumerate(services):
                delay = began + index / rate - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                if index == INJECT_BEFORE:
                    await asyncio.to_thread(inject)
                labels = service_down_labels("shop", service)
                sends.append(
                    asyncio.create_task(
                        send_alert(
                            http, webhook, labels=labels, ledger=started.ledger, starts_at=starts_at
                        )
                    )
                )
            accepted = await asyncio.gather(*sends)
            if not all(accepted):
                started.notes.append(f"{accepted.count(False)} alert(s) never accepted")
            for service in services:  # the group's next repeat: every alert again
                labels = service_down_labels("shop", service)
                await send_alert(
                    http, webhook, labels=labels, ledger=started.ledger, starts_at=starts_at
                )
            runs = await settle(client, wanted, within=WITHIN)
            row = tally(
                case=case,
                scenario=scenario,
                parts=parts,
                started=started,
                runs=runs,
                began_at=began_at,
                began=began,
            )
            await forget(client, runs)
    return row


async def alertmanager_burst(
    bench: FaultBench,
    *,
    case: str,
    name: str,
    inject: Callable[[], object],
    alerts: int = ALERTS,
    rate: float = RATE,
) -> list[Row]:
    """Post ``alerts`` alerts to a real Alertmanager at ``rate`` per second, ``inject`` partway.

    Alertmanager notifies the engine and retries what it refuses by itself; the bench does not
    see the answers, so an alert counts as answered once it has a run (its Service is healthy:
    no incident to join, no cooldown). No row without the Alertmanager binary.

    Args:
        bench: The shared parts.
        case: The case's label.
        name: A folder name unique to the row.
        inject: Injects the fault (and returns at once, or once it is in force).
        alerts: How many alerts.
        rate: Alerts per second, open loop.
    """
    binary = find_alertmanager()
    if binary is None:
        return []
    services = tuple(f"am-{index}" for index in range(alerts))
    scenario = _healthy_checklists(services)
    started = Started()
    folder = bench.workdir / name / "alertmanager"
    folder.mkdir(parents=True, exist_ok=True)
    with rig(bench, scenario.build(), options=RigOptions(), name=name) as parts:
        async with get_client() as client:
            wanted = list((await deployment_ids(client)).values())
            with running_alertmanager(
                folder,
                webhook_url=f"{parts.url}/alertmanager",
                token=TOKEN,
                binary=binary,
                route=ROUTE,
            ) as alertmanager:
                starts_at = datetime.now(UTC)
                began, began_at = time.monotonic(), datetime.now(UTC)
                for index, service in enumerate(services):
                    delay = began + index / rate - time.monotonic()
                    if delay > 0:
                        await asyncio.sleep(delay)
                    if index == INJECT_BEFORE:
                        await asyncio.to_thread(inject)
                    labels = service_down_labels("shop", service)
                    started.ledger.sent[fingerprint_labels(labels)] = labels
                    posted = [prometheus_alert(labels, starts_at=starts_at)]
                    await asyncio.to_thread(alertmanager.post_alerts, posted)
                runs = await _until_each_has_a_run(client, wanted, ledger=started.ledger)
                await asyncio.sleep(3 * 2.0)  # a few repeats: each must find its run
                runs = await settle(client, wanted, within=WITHIN)
                log = alertmanager.log.read_text(errors="replace")
            failed = log.count("Notify for alerts failed")
            started.notes.append(f"Alertmanager: {failed} failed notification attempt(s)")
            _answers_from_runs(started.ledger, runs)
            row = tally(
                case=case,
                scenario=scenario,
                parts=parts,
                started=started,
                runs=runs,
                began_at=began_at,
                began=began,
            )
            await forget(client, runs)
    return [row]


async def _until_each_has_a_run(
    client: PrefectClient, wanted: list[UUID], *, ledger: AlertLedger
) -> list[FlowRun]:
    deadline = time.monotonic() + WITHIN
    while True:
        runs = await runs_of(client, wanted)
        _answers_from_runs(ledger, runs)
        if set(ledger.answers) >= set(ledger.sent) or time.monotonic() > deadline:
            return runs
        await asyncio.sleep(1.0)


def _answers_from_runs(ledger: AlertLedger, runs: list[FlowRun]) -> None:
    """Each alert with a run (by its fingerprint tag) answered ``created`` by that run."""
    ledger.answers.clear()
    ledger.acknowledged.clear()
    for run in runs:
        for tag in run.tags:
            fingerprint = tag.removeprefix("fingerprint:")
            if fingerprint != tag and fingerprint in ledger.sent:
                ledger.answers.setdefault(fingerprint, []).append("created")
                ledger.acknowledged.setdefault(fingerprint, set()).add(str(run.id))
