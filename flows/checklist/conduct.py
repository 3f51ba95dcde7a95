"""One checklist run, step by step: assess, act (behind the approval gate), verify, report."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from prefect.client.schemas.objects import State

from flows.approval import AlertEpisode, ApprovalGate, Channel, Decision
from flows.checklist.actions import (
    Phase,
    RestartKubeProxyPod,
)
from flows.checklist.findings import needs_attention
from flows.checklist.parameters import ChecklistParameters
from flows.checklist.plans import Mutation, Plan
from flows.checklist.record import (
    ActionStatus,
    AlertInfo,
    ApprovalChannel,
    ApprovalDecision,
    ApprovalRecord,
    Outcome,
    RunRecord,
)
from flows.checklist.steps.act import StepFailedError
from flows.checklist.steps.batches import approval_item, step_groups
from flows.checklist.steps.cleanup import remove_recovered_emergency
from flows.checklist.steps.reporting import checkpoint, outcome_state, publish_report
from flows.checklist.steps.results import Assessment
from flows.checklist.steps.verification import run_verification
from flows.checklist.tasks import alert_of, alert_status, assess, await_kube_proxy, perform
from flows.runtime import AlertStatus, FlowRuntime
from integrations.kubernetes import KubeError
from runbooks.approval import ApprovalPolicy

GATE = "checklist-approval"
"""The checklist's one gate: before the first step that needs approval, for all of them."""
_CHANNELS = {Channel.PREFECT_UI: ApprovalChannel.PREFECT_UI, Channel.SLACK: ApprovalChannel.SLACK}


class ChecklistRun:
    """Conducts one run and keeps its record; `execute` returns the run's final state."""

    def __init__(
        self,
        parameters: ChecklistParameters,
        *,
        runtime: FlowRuntime,
        policy: ApprovalPolicy,
        runbook: str | None,
        flow_run_id: str,
        alert_labels: Mapping[str, str] | None = None,
    ) -> None:
        """Prepare a run of the checklist with `parameters` under `policy`.

        ``alert_labels`` are the labels of the alert that started it, for the report.
        """
        self._parameters = parameters
        self._runtime = runtime
        self._policy = policy
        self._alert = alert_of(parameters)
        self._approved = False
        self.record = RunRecord(
            parameters=parameters,
            started_at=runtime.clock.now(),
            runbook=runbook,
            flow_run_id=flow_run_id,
            alert=AlertInfo(
                alertname=parameters.alertname,
                fingerprint=parameters.alert_fingerprint,
                starts_at=parameters.alert_starts_at,
                labels=dict(alert_labels or {}),
            )
            if parameters.alert_fingerprint
            else None,
        )

    def execute(self) -> State[Any]:
        """Run the checklist to its end (or to the approval gate, which suspends the run)."""
        try:
            self._execute()
        except (KubeError, StepFailedError) as error:
            self._finish(Outcome.FAILED, str(error))
        publish_report(self.record)
        return outcome_state(self.record)

    def _now(self) -> Any:
        return self._runtime.clock.now()

    def _finish(self, outcome: Outcome, detail: str) -> None:
        for action in self.record.actions:
            if action.status is ActionStatus.PLANNED:
                action.status, action.detail = ActionStatus.SKIPPED, f"not carried out: {detail}"
        self.record.finish(outcome, at=self._now(), detail=detail)

    def _enter(self, phase: Phase) -> None:
        phases = self.record.phases
        if not phases or phases[-1].phase is not phase:
            self.record.start_phase(phase, at=self._now())

    def _execute(self) -> None:
        self._enter(Phase.SCOPE)
        assessment = assess(self._parameters, self._policy)
        self.record.findings = list(assessment.findings)
        plan = assessment.plan
        self.record.record_plan(plan)
        # Minute 1 is over once the plan is made; a wait for approval is not scope work.
        self.record.end_phase(at=self._now())
        if self._parameters.dry_run:
            for action in plan.actions:
                self.record.record_result(
                    action.key, ActionStatus.DRY_RUN, at=self._now(), detail="dry run: not done"
                )
            self._finish(Outcome.DRY_RUN, f"{len(plan.mutations)} change(s) planned, none made")
            return
        if not plan.actions:
            self._end_without_steps(assessment)
            return
        self._record_drill(plan)
        if not self._act(plan):
            return
        failures = run_verification(self.record, plan, self._parameters, now=self._now)
        if failures:
            self._finish(Outcome.NOT_RECOVERED, "; ".join(failures))
            return
        created = any(
            a.key.startswith("create_emergency_nodeport") and a.status is ActionStatus.DONE
            for a in self.record.actions
        )
        if created or assessment.emergency_service:
            self._clean_up(assessment.emergency_service or "created")
        if not plan.mutations:
            # Only checks ran and they passed: this run changed nothing, so nothing
            # "recovered" (even when a scope finding warned); the report says what was checked.
            self._finish(
                Outcome.NOTHING_TO_DO,
                "nothing of warning or critical severity found; checked: "
                + self._verified_summary(),
            )
            return
        self._finish(Outcome.RECOVERED, "verified: " + self._verified_summary())

    def _end_without_steps(self, assessment: Assessment) -> None:
        if needs_attention(assessment.findings):
            self._finish(Outcome.NOT_RECOVERED, "nothing this run can change itself; see the notes")
            return
        self._clean_up(assessment.emergency_service)
        self._finish(Outcome.NOTHING_TO_DO, "nothing of warning or critical severity found")

    def _verified_summary(self) -> str:
        checks = [a for a in self.record.actions if a.phase is Phase.VERIFY and a.detail]
        return "; ".join(a.detail or "" for a in checks) or "no check needed"

    def _clean_up(self, emergency: str | None) -> None:
        parameters = self._parameters
        if emergency and parameters.namespace and parameters.service:
            remove_recovered_emergency(self.record, parameters, now=self._now)

    def _alert_resolved(self) -> bool:
        return self._alert is not None and alert_status(self._alert) is AlertStatus.RESOLVED

    def _record_drill(self, plan: Plan) -> None:
        mutations = plan.mutations
        if not (self._parameters.auto_approve and self._policy.auto_approve_for_drills):
            return
        if not mutations or any(m.needs_approval for m in mutations):
            return
        now = self._now()
        self.record.approvals.append(
            ApprovalRecord(
                action_keys=[m.key for m in mutations],
                phase=mutations[0].phase,
                requested_at=now,
                decided_at=now,
                decision=ApprovalDecision.APPROVED,
                by="runbook policy",
                channel=ApprovalChannel.DRILL,
                reason="drill: the runbook approves drills automatically",
            )
        )

    def _act(self, plan: Plan) -> bool:
        """Carry out the mutations; False when the run ended on the way (rejected, resolved)."""
        gated = [m for m in plan.mutations if m.needs_approval]
        for group in step_groups(plan.mutations):
            asking = not self._approved and any(m.needs_approval for m in group)
            if asking and not self._ask(gated, plan):
                return False
            self._enter(group[0].phase)
            if not self._perform(group):
                return False
        return True

    def _perform(self, group: tuple[Mutation, ...]) -> bool:
        replaced: dict[str, str] = {}
        for action in group:
            try:
                result = perform(action, self._parameters)
            except (KubeError, StepFailedError) as error:
                self.record.record_result(
                    action.key, ActionStatus.FAILED, at=self._now(), detail=str(error)
                )
                raise
            self.record.record_result(
                action.key, result.status, at=result.finished_at, detail=result.detail
            )
            if result.alert_resolved:
                self._finish(Outcome.ALERT_RESOLVED, "the alert resolved; no further change made")
                return False
            if isinstance(action, RestartKubeProxyPod) and result.status is ActionStatus.DONE:
                replaced[action.node] = action.uid
        if replaced:
            try:
                waited = await_kube_proxy(replaced, self._parameters.verify_timeout_seconds)
            except StepFailedError as error:
                for action in group:
                    self._append_detail(action.key, str(error), failed=True)
                raise
            for action in group:
                if isinstance(action, RestartKubeProxyPod) and action.node in replaced:
                    self._append_detail(action.key, waited)
        return True

    def _append_detail(self, key: str, text: str, *, failed: bool = False) -> None:
        record = next(a for a in self.record.actions if a.key == key)
        status = ActionStatus.FAILED if failed else record.status
        detail = f"{record.detail}; {text}" if record.detail else text
        self.record.record_result(key, status, at=self._now(), detail=detail)

    def _ask(self, gated: list[Mutation], plan: Plan) -> bool:
        """Ask for approval of every gated step; False when the run ended (no approval)."""
        gate = ApprovalGate(self._runtime.notifier, now=self._now)
        request = gate.request(
            gate=GATE,
            title=f"Approve {len(gated)} step(s) of the five-minute checklist on "
            f"{self._parameters.service_key or self._parameters.instance or 'the cluster'}",
            items=[approval_item(m) for m in gated],
            timeout_seconds=self._parameters.approval_timeout_seconds,
            notes=[note.text for note in plan.notes],
            alert=AlertEpisode(
                fingerprint=self._alert.fingerprint,
                starts_at=self._alert.starts_at,
                alertname=self._alert.alertname,
            )
            if self._alert
            else None,
        )
        self.record, first = checkpoint(self.record, gate=GATE)
        if first and self._alert_resolved():
            self._finish(Outcome.ALERT_RESOLVED, "the alert resolved before approval was asked")
            return False
        if first:
            publish_report(self.record)
        approval = gate.ask(request)
        answer = approval.answer
        self.record.approvals.append(
            ApprovalRecord(
                action_keys=[m.key for m in gated],
                phase=gated[0].phase,
                requested_at=approval.request.requested_at,
                decided_at=answer.decided_at,
                decision=ApprovalDecision(answer.decision.value),
                by=answer.by,
                channel=_CHANNELS.get(answer.channel),
                reason=answer.reason or None,
            )
        )
        if self._alert_resolved():
            why = f" ({answer.reason})" if answer.reason else ""
            self._finish(
                Outcome.ALERT_RESOLVED, f"the alert resolved while waiting for approval{why}"
            )
            return False
        if not answer.approved:
            timed_out = answer.decision is Decision.TIMED_OUT
            outcome = Outcome.APPROVAL_TIMED_OUT if timed_out else Outcome.REJECTED
            why = f": {answer.reason}" if answer.reason else ""
            self._finish(
                outcome,
                f"{answer.decision.value} by {answer.by}{why}; "
                "none of the steps awaiting approval was carried out",
            )
            return False
        self._approved = True
        return True
