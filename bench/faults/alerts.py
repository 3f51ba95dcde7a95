"""Alerts sent as Alertmanager sends them, and what became of each: a run, a join, or nothing."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime

import httpx
import orjson
from prefect.client.schemas.objects import FlowRun

from integrations.alertmanager.fingerprint import fingerprint_labels
from tests.e2e.served_engine import BEARER
from tests.e2e.storm import grouped_notification

#: Answers that give an alert a run (created now, or found from an earlier delivery).
WITH_RUN = frozenset({"created", "duplicate"})
#: Answers that account for an alert without a run of its own.
ANSWERED = WITH_RUN | {"joined", "cooldown"}
#: Alertmanager gives up on a notification after its group interval; the bench keeps trying
#: this long (Alertmanager would try again at the next interval).
DELIVERY_BUDGET = 150.0


@dataclass
class AlertLedger:
    """The alerts sent and what the receiver answered for each.

    Attributes:
        sent: Each alert's labels, by fingerprint.
        answers: Each fingerprint's answers (``created``, ``joined``, ...), every delivery.
        acknowledged: The runs the receiver named for each fingerprint (created or found).
        statuses: Every attempt's HTTP status, or the error that got none.
        retries: Attempts after one that was not accepted.
    """

    sent: dict[str, dict[str, str]] = field(default_factory=dict)
    answers: dict[str, list[str]] = field(default_factory=dict)
    acknowledged: dict[str, set[str]] = field(default_factory=dict)
    statuses: Counter[str] = field(default_factory=Counter)
    retries: int = 0

    def lost(self, runs: Collection[FlowRun]) -> tuple[int, int]:
        """Alerts lost and acknowledged runs lost, given the runs that exist.

        An alert is lost when no delivery was accepted with an answer for it, or when every
        run the receiver named for it is gone.
        """
        existing = {str(run.id) for run in runs}
        alerts = 0
        for fingerprint in self.sent:
            answers = set(self.answers.get(fingerprint, ()))
            named = self.acknowledged.get(fingerprint, set())
            has_run = bool(named & existing)
            if not answers & ANSWERED or (answers <= WITH_RUN and not has_run):
                alerts += 1
        acknowledged = set().union(*self.acknowledged.values()) if self.acknowledged else set()
        return alerts, len(acknowledged - existing)

    def extra_runs(self, runs: Collection[FlowRun]) -> int:
        """Runs beyond the first for one alert (by its fingerprint tag)."""
        per_alert = Counter(
            tag for run in runs for tag in run.tags if tag.startswith("fingerprint:")
        )
        return sum(count - 1 for count in per_alert.values())

    def describe(self) -> str:
        """Statuses and answers, for the row's notes."""
        answers = Counter(answer for answers in self.answers.values() for answer in answers)
        statuses = ", ".join(f"{status} x{n}" for status, n in sorted(self.statuses.items()))
        given = ", ".join(f"{answer} x{n}" for answer, n in sorted(answers.items()))
        sent = f"deliveries: {statuses}; {self.retries} retries; " if statuses else ""
        return f"{sent}answers: {given or 'none'}"


async def send_alert(
    client: httpx.AsyncClient,
    webhook_url: str,
    *,
    labels: Mapping[str, str],
    ledger: AlertLedger,
    starts_at: datetime,
    budget: float = DELIVERY_BUDGET,
) -> bool:
    """Deliver one firing alert (a notification of its own) until it is accepted, backing off
    as Alertmanager does; whether it was accepted within ``budget`` seconds."""
    fingerprint = fingerprint_labels(dict(labels))
    ledger.sent[fingerprint] = dict(labels)
    body = orjson.dumps(
        grouped_notification([labels], starts_at=starts_at, group=f"fault-{fingerprint}")
    )
    headers = {**BEARER, "Content-Type": "application/json"}
    deadline = time.monotonic() + budget
    attempt = 0
    while True:
        try:
            response = await client.post(webhook_url, content=body, headers=headers)
        except httpx.HTTPError as error:
            ledger.statuses[type(error).__name__] += 1
        else:
            ledger.statuses[str(response.status_code)] += 1
            if response.status_code == httpx.codes.OK:
                _note(ledger, response.json().get("alerts", []))
                return True
        if time.monotonic() > deadline:
            return False
        ledger.retries += 1
        await asyncio.sleep(min(0.5 * 1.5**attempt, 10.0))
        attempt += 1


def _note(ledger: AlertLedger, answers: list[dict[str, object]]) -> None:
    for answer in answers:
        fingerprint, outcome = str(answer.get("fingerprint")), str(answer.get("outcome"))
        ledger.answers.setdefault(fingerprint, []).append(outcome)
        run_id = answer.get("flow_run_id")
        if outcome in WITH_RUN and run_id:
            ledger.acknowledged.setdefault(fingerprint, set()).add(str(run_id))
