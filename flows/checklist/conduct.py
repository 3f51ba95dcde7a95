"""One checklist run, step by step: assess, act (behind the approval gate), verify, clean up."""

from __future__ import annotations

from collections.abc import Mapping

from prefect.states import Completed, Failed

from flows.approval.gate import AlertEpisode
from flows.change_run import ChangeRun, FinalState, RunReport, final_states
from flows.checklist.actions import Phase, RestartKubeProxyPod
from flows.checklist.batches import approval_item, step_groups
from flows.checklist.budgets import next_wave
from flows.checklist.coordination import Coordination, Joined
from flows.checklist.kube_proxy_diagnosis import ROLLBACK_FLOW
from flows.checklist.notes import NoteKind
from flows.checklist.observation import emergency_service_name
from flows.checklist.parameters import ChecklistParameters
from flows.checklist.plan import Mutation, Plan
from flows.checklist.probes import StepFailedError
from flows.checklist.record import (
    ActionStatus,
    AlertInfo,
    Outcome,
    RunRecord,
    StepsApproval,
    emergency_removal,
)
from flows.checklist.report import render_report, report_key
from flows.checklist.tasks import (
    Assessment,
    alert_of,
    alert_status,
    assess,
    await_kube_proxy,
    guarding_alert,
    perform,
    remove_emergency,
    start_follow_up,
    verify,
)
from flows.checklist.verdicts import outcome_after_verification, outcome_without_steps
from flows.checklist.verification import VerificationStep
from flows.run_record import Ending
from flows.runtime import AlertStatus, FlowRuntime
from integrations.kubernetes import KubeError
from runbooks.approval import ApprovalPolicy

GATE = "checklist-approval"
"""The checklist's one gate: before the first step that needs approval, for all of them."""

#: The final state of each outcome: an alert that resolved on its own ends the run Completed
#: (nothing more to do), as does a cause the run leaves to its owner (a workload scaled to zero,
#: a rollout starting its pods, pods no node can take) and a mitigation verified for what it
#: did with the rest deferred; a Service not verified working again, Failed.
STATES: Mapping[Outcome, FinalState] = final_states(
    Outcome,
    {
        Outcome.RECOVERED: (Completed, "Recovered"),
        Outcome.PARTIALLY_MITIGATED: (Completed, "PartiallyMitigated"),
        Outcome.ALERT_RESOLVED: (Completed, "AlertResolved"),
        Outcome.SCALED_TO_ZERO: (Completed, "ScaledToZero"),
        Outcome.ROLLOUT_IN_PROGRESS: (Completed, "RolloutInProgress"),
        Outcome.PODS_UNSCHEDULABLE: (Completed, "PodsUnschedulable"),
        Outcome.NOT_RECOVERED: (Failed, "NotRecovered"),
        Outcome.JOINED_INCIDENT: (Completed, "JoinedIncident"),
    },
)


class ChecklistRun(ChangeRun[RunRecord, Outcome]):
    """Conducts one run and keeps its record; `execute` returns the run's final state."""

    outcomes = Outcome
    states = STATES
    report = RunReport(title="Five-minute checklist report", key=report_key, render=render_report)
    stops_on = (KubeError, StepFailedError)

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
        record = RunRecord(
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
        super().__init__(record, runtime=runtime, policy=policy, drill=parameters.auto_approve)
        self._parameters = parameters
        self._alert = alert_of(parameters)
        self._approval_given = False
        self._coordination = Coordination(
            lambda: self.record, parameters=parameters, clock=runtime.clock
        )

    def _target(self) -> str:
        return self._parameters.service_key or self._parameters.instance or "the cluster"

    def _topic(self) -> str:
        alertname = self._parameters.alertname
        return f"{alertname + ' on ' if alertname else ''}{self._target()}: five-minute checklist"

    def _wind_up(self) -> None:
        self._coordination.wind_up()

    def _fail(self, error: Exception) -> None:
        # A failed step's error says what was seen; the report shows it as it is.
        self._end(Ending.FAILED, str(error))

    def _finish(self, outcome: Outcome, detail: str) -> None:
        for action in self.record.actions:
            if action.status is ActionStatus.PLANNED:
                action.status, action.detail = ActionStatus.SKIPPED, f"not carried out: {detail}"
        super()._finish(outcome, detail)

    def _enter(self, phase: Phase) -> None:
        phases = self.record.phases
        if not phases or phases[-1].phase is not phase:
            self.record.start_phase(phase, at=self._now())

    def _conduct(self) -> None:
        self._enter(Phase.SCOPE)
        # A follow-up carries on its parent's kube-proxy restarts, wherever its parent's were.
        follow_up = self._parameters.follow_up_of is not None
        assessment = assess(self._parameters, self._policy, everywhere=follow_up)
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
        shared = self._coordination.share(plan)
        if self._coordination.owned is not None and self._parameters.instance:
            # The owner answers for every node's kube-proxy: plan what the whole cluster needs,
            # so the other nodes' alerts join this plan instead of waiting for their own.
            assessment = assess(self._parameters, self._policy, everywhere=True)
            plan = shared = assessment.plan
            self.record.findings = list(assessment.findings)
            self.record.record_plan(plan)
            self._coordination.widened(plan)
        if isinstance(shared, Joined):
            plan = shared.plan
            self.record.record_plan(plan)
            if not plan.mutations:
                owner = shared.incident
                self._finish(
                    Outcome.JOINED_INCIDENT,
                    f"{owner.cause}; run {owner.owner} restarts kube-proxy for every Service "
                    f"this affects and verifies {self._target()} once it is done",
                )
                return
        if not plan.actions:
            self._end_without_steps(assessment)
            return
        if not plan.mutations and any(n.kind is NoteKind.RECOMMEND_ROLLBACK for n in plan.notes):
            # Waiting for recovery would only wait for the rollback a human has to start.
            self._finish(
                Outcome.NOT_RECOVERED,
                f"the kube-proxy rollout is stuck and this run has nothing to change: roll it "
                f"back with the {ROLLBACK_FLOW} flow",
            )
            return
        self._record_drill(plan)
        if not self._act(plan):
            return
        failures = self._verify(plan)
        if failures:
            self._finish(Outcome.NOT_RECOVERED, "; ".join(failures))
            return
        checks = [a for a in self.record.actions if a.phase is Phase.VERIFY and a.detail]
        outcome, detail = outcome_after_verification(
            changed=bool(plan.mutations),
            deferred=plan.deferred_nodes,
            checked=[a.detail or "" for a in checks if a.status is ActionStatus.DONE],
            unavailable=[
                (a.detail or "").removeprefix("unavailable: ")
                for a in checks
                if a.status is ActionStatus.SKIPPED
            ],
        )
        created = any(
            a.key.startswith("create_emergency_nodeport") and a.status is ActionStatus.DONE
            for a in self.record.actions
        )
        # Deferred nodes still drop the Service's traffic: its fallback access stays open.
        if (created or assessment.emergency_service) and not plan.deferred_nodes:
            self._clean_up(assessment.emergency_service or "created")
        if outcome is Outcome.PARTIALLY_MITIGATED:
            detail += "; " + self._follow_up(plan)
        self._finish(outcome, detail)

    def _follow_up(self, plan: Plan) -> str:
        """Start the next wave for the deferred nodes, if the hour's budget allows one."""
        budget = plan.restart_budget
        restarted = sum(
            1
            for action in plan.mutations
            if isinstance(action, RestartKubeProxyPod)
            and self.record.action_status(action.key) is ActionStatus.DONE
        )
        wave = (
            None
            if budget is None
            else next_wave(
                budget,
                hour_started_at=self._parameters.hour_started_at,
                run_started_at=self.record.started_at,
                now=self._now(),
                restarted=restarted,
            )
        )
        if wave is None:
            per_hour = budget.per_hour if budget else 0
            return (
                f"no follow-up run: this hour's budget of {per_hour} kube-proxy restart(s) is "
                "spent; run the checklist again later"
            )
        follow_up = self._parameters.model_copy(
            update={
                "follow_up_of": self.record.flow_run_id,
                "restarted_this_hour": wave.restarted_this_hour,
                "hour_started_at": wave.hour_started_at,
            }
        )
        name = start_follow_up(
            follow_up.model_dump(mode="json"), parent=self.record.flow_run_id or "unknown"
        )
        self.record.follow_up = name
        return f"follow-up run {name} started for them, once these were verified"

    def _end_without_steps(self, assessment: Assessment) -> None:
        outcome, detail = outcome_without_steps(assessment.findings)
        if outcome is Outcome.NOTHING_TO_DO:
            self._clean_up(assessment.emergency_service)
        self._finish(outcome, detail)

    def _clean_up(self, emergency: str | None) -> None:
        """Remove the Service's emergency NodePort Service: it has recovered (this run or later)."""
        namespace, service = self._parameters.namespace, self._parameters.service
        if not (emergency and namespace and service):
            return
        detail = remove_emergency(namespace, emergency_service_name(service))
        self.record.actions.append(
            emergency_removal(namespace, service, detail=detail, at=self._now())
        )

    def _alert_resolved(self) -> bool:
        guarding = guarding_alert(self._parameters)
        resolved = guarding is not None and alert_status(guarding) is AlertStatus.RESOLVED
        # An incident's owner stops for its own alert only once every alert it answers for has.
        return resolved and not self._coordination.others_firing()

    def _record_drill(self, plan: Plan) -> None:
        mutations = plan.mutations
        if not (self._drill and self._policy.auto_approve_for_drills):
            return
        if not mutations or any(m.needs_approval for m in mutations):
            return
        self.record.approval = StepsApproval.drill(mutations, at=self._now())

    def _act(self, plan: Plan) -> bool:
        """Carry out the mutations; False when the run ended on the way (rejected, resolved)."""
        self._begin_changes()
        gated = [m for m in plan.mutations if m.needs_approval]
        for group in step_groups(plan.mutations):
            asking = not self._approval_given and any(m.needs_approval for m in group)
            if asking and not self._await_approval(gated, plan):
                return False
            self._enter(group[0].phase)
            if not self._perform(group):
                return False
        return True

    def _perform(self, group: tuple[Mutation, ...]) -> bool:
        replaced: dict[str, str] = {}
        others_firing = self._coordination.others_firing()
        for action in group:
            try:
                result = perform(action, self._parameters, others_firing=others_firing)
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

    def _await_approval(self, gated: list[Mutation], plan: Plan) -> bool:
        """Ask for approval of every gated step; False when the run ended (no approval)."""
        gate = self._gate(m.kind for m in gated)
        alert = self._alert
        request = gate.request(
            gate=GATE,
            title=f"Approve {len(gated)} step(s) of the five-minute checklist on {self._target()}",
            items=[approval_item(m) for m in gated],
            timeout_seconds=self._parameters.approval_timeout_seconds,
            notes=[note.text for note in plan.notes],
            coverage=self._coordination.coverage(),
            alert=AlertEpisode(
                fingerprint=alert.fingerprint, starts_at=alert.starts_at, alertname=alert.alertname
            )
            if alert
            else None,
        )
        first = self._checkpoint(GATE)
        if first and self._alert_resolved():
            self._finish(Outcome.ALERT_RESOLVED, "the alert resolved before approval was asked")
            return False
        approval = self._ask(gate, request, first=first)
        self.record.approval = StepsApproval.answering(approval, gated)
        answer = approval.answer
        if self._alert_resolved():
            why = f" ({answer.reason})" if answer.reason else ""
            self._finish(
                Outcome.ALERT_RESOLVED, f"the alert resolved while waiting for approval{why}"
            )
            return False
        if not self._go_ahead(
            answer, unchanged="none of the steps awaiting approval was carried out"
        ):
            return False
        self._approval_given = True
        return True

    def _verify(self, plan: Plan) -> list[str]:
        """Run each verification step, recording its result; returns what failed (empty: ok)."""
        steps = [s for s in plan.in_phase(Phase.VERIFY) if isinstance(s, VerificationStep)]
        if steps:
            self.record.start_phase(Phase.VERIFY, at=self._now())
        failures: list[str] = []
        for step in steps:
            result = verify(step, self._parameters)
            self.record.record_result(
                step.key, result.status, at=result.finished_at, detail=result.detail
            )
            if result.status is ActionStatus.FAILED:
                failures.append(result.detail)
        return failures
