"""The checklist's part in an incident: claim or join it before acting, answer for it after.

Before a run changes a shared object (kube-proxy pods), it claims the object's incident. The
owner goes on with its whole plan, asks for approval once (the request lists the alerts that
joined so far) and, however it ends, closes the incident and answers for every alert that
joined: it verifies each target once its change is done and starts the run an alert would have
had for each one still failing. A run that finds the incident owned leaves the shared steps to
the owner: with nothing of its own left to do it joins (its alert is answered for by the
owner) and ends; with its Service's own steps left it carries those out alone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from prefect.context import FlowRunContext
from prefect.runtime import deployment, flow_run

from flows.approval import Coverage
from flows.checklist.actions import RestartKubeProxyPod
from flows.checklist.covered import TargetCheck, targets_of, verify_covered
from flows.checklist.parameters import ChecklistParameters
from flows.checklist.plan import Plan
from flows.checklist.record import (
    ActionStatus,
    CoveredAlert,
    IncidentRecord,
    IncidentRole,
    Outcome,
    RunRecord,
)
from flows.checklist.sharing import cause, left_to_owner, restarted_nodes, shared_object
from flows.incident import tasks as incident
from flows.incident.ledger import JoinReader
from flows.incident.records import Incident, JoinedAlert, coverage_of
from flows.run_identity import as_utc
from flows.runtime import Clock

MANUAL_ALERT = "manual run"
"""The alert name a run started by hand joins an incident under."""
COVERED_TIMEOUT_SECONDS = 30.0
"""How long the owner waits for the covered targets to work, after its own verification."""
QUIET_SECONDS = 5.0
"""After its change, the owner closes the incident once no alert has joined for this long."""
LINGER_SECONDS = 60.0
"""The longest the owner keeps its incident open after its change, answering late alerts."""
LINGER_POLL_SECONDS = 1.0
#: Outcomes after which every covered alert still firing gets its own run: the owner stopped
#: only because its own alert resolved, while the others may still fire.
HAND_OVER = frozenset({Outcome.ALERT_RESOLVED})


@dataclass(frozen=True, slots=True)
class Joined:
    """Another run owns the incident; `plan` is what is left for this run (maybe nothing)."""

    incident: Incident
    plan: Plan


class Coordination:
    """One checklist run's part in the incident on the shared object its plan changes."""

    def __init__(
        self,
        record: Callable[[], RunRecord],
        *,
        parameters: ChecklistParameters,
        clock: Clock,
    ) -> None:
        """Coordinate the run whose record `record` returns (the run may replace it), with
        `parameters`."""
        self._record_of = record
        self._parameters = parameters
        self._clock = clock
        self._now = clock.now
        self._owned: Incident | None = None
        self._joins: JoinReader | None = None

    @property
    def _record(self) -> RunRecord:
        return self._record_of()

    @property
    def owned(self) -> Incident | None:
        """The incident this run owns, once claimed."""
        return self._owned

    def share(self, plan: Plan) -> Plan | Joined:
        """Claim the incident of the shared object `plan` changes; the plan to carry out.

        Returns `plan` when it changes nothing shared or this run owns the incident, else
        `Joined` with what is left for this run; a run with nothing left has joined.
        """
        shared = shared_object(plan)
        if shared is None or self._record.flow_run_id is None:
            return plan
        claim = incident.claim(
            shared.value,
            cause=cause(plan),
            nodes=restarted_nodes(plan),
            opened_at=self._now(),
            successor_of=self._parameters.follow_up_of,
        )
        found = claim.incident
        role = IncidentRole.OWNER if claim.owned else IncidentRole.JOINED
        self._record.incident = IncidentRecord(
            role=role, shared=found.shared, owner=found.owner, cause=found.cause
        )
        if claim.owned:
            self._owned = found
            return plan
        kept = left_to_owner(plan)
        if not kept.mutations:
            incident.join(found, self._joined_alert())
        return Joined(found, kept)

    def widened(self, plan: Plan) -> None:
        """The owner's plan now covers every node's kube-proxy: say so in its incident."""
        owned, record = self._owned, self._record
        if owned is None or record.incident is None:
            return
        self._owned = incident.amend(owned, cause=cause(plan), nodes=restarted_nodes(plan))
        record.incident.cause = self._owned.cause

    def covered_so_far(self) -> list[JoinedAlert]:
        """The alerts that joined the incident this run owns, so far (none if it owns none)."""
        if self._owned is None:
            return []
        return [a for a in incident.joins(self._join_reader()) if not self._is_own(a)]

    def _join_reader(self) -> JoinReader:
        owned = self._owned
        assert owned is not None, "only the owner reads the joins"
        if self._joins is None:
            self._joins = JoinReader(owned.owner_run_id)
        return self._joins

    def coverage(self) -> Coverage | None:
        """What this run's request says of the alerts it answers for (None: it owns none)."""
        owned = self._owned
        if owned is None:
            return None
        return coverage_of(owned.shared, owned.cause, self.covered_so_far())

    def others_firing(self) -> bool:
        """Whether an alert that joined this run's incident still fires (none: False)."""
        covered = self.covered_so_far()
        if not covered:
            return False
        resolved = incident.resolutions(covered)
        return any((a.fingerprint, as_utc(a.starts_at)) not in resolved for a in covered)

    def wind_up(self) -> None:
        """Close the incident this run owns and answer for every alert that joined it.

        After a change, alerts its cause raised keep arriving for a while (Alertmanager's
        group waits): the incident stays open, and they are answered as they come, until none
        has joined for `QUIET_SECONDS` (at most `LINGER_SECONDS`); then it closes, and the
        joins that landed meanwhile are answered too.
        """
        owned, record = self._owned, self._record
        if owned is None or record.incident is None:
            return
        changed = any(
            a.kind is RestartKubeProxyPod.kind and a.status is ActionStatus.DONE
            for a in record.actions
        )
        answered: set[tuple[str, datetime]] = set()
        owed: list[tuple[JoinedAlert, CoveredAlert]] = []
        if changed:
            self._linger(answered, owed)
        closed = incident.close(owned, outcome=record.outcome_text)
        self._answer(self._fresh(answered), answered, owed, changed=changed)
        incident.release(closed)
        # Only now: runs started while the incident was open would join it again.
        for alert, covered in owed:
            covered.handled_by = incident.start_run(alert, idempotency_key=self._key_for(alert))

    def _linger(
        self,
        answered: set[tuple[str, datetime]],
        owed: list[tuple[JoinedAlert, CoveredAlert]],
    ) -> None:
        clock = self._clock
        last = clock.monotonic()
        deadline = last + LINGER_SECONDS
        while clock.monotonic() < deadline:
            fresh = self._fresh(answered)
            if fresh:
                self._answer(fresh, answered, owed, changed=True)
                last = clock.monotonic()
            elif clock.monotonic() - last >= QUIET_SECONDS:
                return
            else:
                clock.sleep(LINGER_POLL_SECONDS)

    def _fresh(self, answered: set[tuple[str, datetime]]) -> list[JoinedAlert]:
        owned = self._owned
        if owned is None:
            return []
        joins = incident.joins(self._join_reader())
        return [a for a in joins if not self._is_own(a) and _episode(a) not in answered]

    def _answer(
        self,
        alerts: list[JoinedAlert],
        answered: set[tuple[str, datetime]],
        owed: list[tuple[JoinedAlert, CoveredAlert]],
        *,
        changed: bool,
    ) -> None:
        """Verify `alerts`' targets (after a change) and list each in the report; those still
        failing go to `owed`: each gets its own run once the incident has closed."""
        owned, record = self._owned, self._record
        if not alerts or owned is None or record.incident is None:
            return
        outcome = record.outcome_text
        resolved = incident.resolutions(alerts)
        # A node this run's budget deferred is the follow-up's to restart: waiting for it to
        # work, or starting the alert's own run for it, would only race the follow-up.
        follow_up = record.follow_up
        deferred = set(record.deferred_nodes) if follow_up else set()
        checked = [a for a in alerts if a.target not in deferred]
        checks = (
            verify_covered(targets_of(checked), COVERED_TIMEOUT_SECONDS)
            if changed and checked
            else {}
        )
        for alert in alerts:
            answered.add(_episode(alert))
            resolved_at = resolved.get(_episode(alert))
            if follow_up and alert.target in deferred:
                record.incident.covered.append(
                    _handed_on(alert, follow_up=follow_up, resolved_at=resolved_at)
                )
                continue
            check = checks.get(alert.target)
            handled_by = owned.owner
            firing = resolved_at is None
            # A target still failing after the change has a cause of its own; an alert left
            # when the owner stopped only because its own alert resolved still needs its run
            # (those runs claim a new incident among themselves).
            failing = check is not None and not check.ok
            left = check is None and record.outcome in HAND_OVER
            covered = _covered(
                alert,
                check,
                changed=changed,
                outcome=outcome,
                handled_by=handled_by,
                resolved_at=resolved_at,
            )
            record.incident.covered.append(covered)
            if firing and (failing or left):
                owed.append((alert, covered))

    def _joined_alert(self) -> JoinedAlert:
        parameters, record = self._parameters, self._record
        run_id = record.flow_run_id or ""
        context = FlowRunContext.get()
        run = context.flow_run if context else None
        return JoinedAlert(
            alertname=parameters.alertname or MANUAL_ALERT,
            fingerprint=parameters.alert_fingerprint or run_id,
            starts_at=parameters.alert_starts_at or record.started_at,
            runbook=record.runbook or "-",
            deployment=f"{flow_run.get_flow_name()}/{deployment.get_name()}",
            parameters=parameters.model_dump(mode="json", exclude_none=True),
            tags=list(flow_run.tags),
            labels=dict(run.labels) if run is not None else {},
            idempotency_key=(run.idempotency_key if run is not None else None) or run_id,
            joined_at=self._now(),
            run_id=run_id,
            run_name=flow_run.get_name(),
        )

    def _is_own(self, alert: JoinedAlert) -> bool:
        return alert.run_id is not None and alert.run_id == self._record.flow_run_id

    def _key_for(self, alert: JoinedAlert) -> str:
        # A run that joined holds its own key (it ended): the run started for it needs another.
        if alert.run_id is None:
            return alert.idempotency_key
        owner = self._record.flow_run_id or ""
        return f"{alert.idempotency_key}/after-{owner[:8]}"


def _episode(alert: JoinedAlert) -> tuple[str, datetime]:
    return alert.fingerprint, as_utc(alert.starts_at)


def _covered(
    alert: JoinedAlert,
    check: TargetCheck | None,
    *,
    changed: bool,
    outcome: str,
    handled_by: str,
    resolved_at: datetime | None,
) -> CoveredAlert:
    if check is not None:
        verification: str = check.seen
    elif changed:
        verification = "not checked"
    else:
        verification = f"nothing changed: {outcome}"
    return _row(
        alert,
        verification=verification,
        verified=check.ok if check is not None else None,
        resolved_at=resolved_at,
        handled_by=handled_by,
    )


def _handed_on(alert: JoinedAlert, *, follow_up: str, resolved_at: datetime | None) -> CoveredAlert:
    return _row(
        alert,
        verification=f"deferred by this run's restart budget to follow-up run {follow_up}",
        verified=None,
        resolved_at=resolved_at,
        handled_by=follow_up,
    )


def _row(
    alert: JoinedAlert,
    *,
    verification: str,
    verified: bool | None,
    resolved_at: datetime | None,
    handled_by: str,
) -> CoveredAlert:
    return CoveredAlert(
        alertname=alert.alertname,
        fingerprint=alert.fingerprint,
        target=alert.target,
        fired_at=alert.starts_at,
        joined_at=alert.joined_at,
        via=alert.run_name or alert.run_id or "alert",
        verification=verification,
        verified=verified,
        resolved_at=resolved_at,
        handled_by=handled_by,
    )
