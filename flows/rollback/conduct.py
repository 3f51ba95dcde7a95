"""The rollback, step by step: assess and back up, ask, roll back, watch, restore if it fails."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from prefect.artifacts import create_markdown_artifact
from prefect.states import Cancelled, Completed, Failed

from flows.approval import ApprovalItem, ApprovalRequest, StepStatus
from flows.approval.gate import ApprovalGate
from flows.change_run import ChangeRun, FinalState, RunReport, final_states
from flows.incident import tasks as incident
from flows.incident.records import Incident
from flows.rollback.observe import DAEMON_SET, NAMESPACE
from flows.rollback.parameters import RollbackParameters
from flows.rollback.plan import RollbackPlan, container_images
from flows.rollback.record import Outcome, RollbackRecord
from flows.rollback.report import backup_key, render_report, report_key
from flows.rollback.rollout import Progress, RolloutVerdict
from flows.rollback.tasks import assess_rollback, change_template, watch_rollout
from flows.runtime import FlowRuntime
from runbooks.approval import ActionKind, ApprovalPolicy
from runbooks.model import SharedObject

GATE = "rollback-kube-proxy"

#: The final state of each outcome: a rollback someone else's change overtook is Cancelled (it
#: applied nothing); one that found the cluster already in its planned state Completed (nothing
#: was applied, nothing was left to do); one whose new pods did not become Ready Failed,
#: restored or not.
STATES: Mapping[Outcome, FinalState] = final_states(
    Outcome,
    {
        Outcome.ROLLED_BACK: (Completed, "RolledBack"),
        Outcome.SUPERSEDED: (Cancelled, "Superseded"),
        Outcome.KUBE_PROXY_BUSY: (Cancelled, "KubeProxyBusy"),
        Outcome.ALREADY_IN_PLACE: (Completed, "AlreadyInPlace"),
        Outcome.RESTORED: (Failed, "RolloutFailedRestored"),
        Outcome.RESTORE_FAILED: (Failed, "RestoreFailed"),
    },
)


class RollbackRun(ChangeRun[RollbackRecord, Outcome]):
    """One run of the rollback; `execute` returns its final state."""

    outcomes = Outcome
    states = STATES
    report = RunReport(title="kube-proxy rollback report", key=report_key, render=render_report)

    def __init__(
        self,
        parameters: RollbackParameters,
        *,
        runtime: FlowRuntime,
        policy: ApprovalPolicy,
        flow_run_id: str,
    ) -> None:
        """Prepare the run (nothing is read yet)."""
        record = RollbackRecord(
            flow_run_id=flow_run_id,
            daemon_set=f"{NAMESPACE}/{DAEMON_SET}",
            started_at=runtime.clock.now(),
            dry_run=parameters.dry_run,
        )
        super().__init__(record, runtime=runtime, policy=policy, drill=parameters.auto_approve)
        self._parameters = parameters
        self._incident: Incident | None = None

    def _conduct(self) -> None:
        assessment = assess_rollback(self._parameters.to_revision)
        plan = assessment.plan
        if not isinstance(plan, RollbackPlan):
            self.record.add_step("assess", StepStatus.DONE, plan.reason, at=assessment.observed_at)
            self._finish(Outcome.NOTHING_TO_DO, plan.reason)
            return
        self._note_plan(plan, observed_at=assessment.observed_at)
        if assessment.target is not None:
            self.record.target = assessment.target.lines()
            self.record.target_warning = assessment.target.warning
        first = self._checkpoint(GATE)
        if first:
            create_markdown_artifact(
                markdown=assessment.backup,
                key=backup_key(self.record.flow_run_id or "unknown"),
                description=f"kube-proxy before the rollback (revision {plan.from_revision})",
            )
        if self._parameters.dry_run:
            self._finish(
                Outcome.DRY_RUN,
                f"would roll back revision {plan.from_revision} -> {plan.to_revision}; "
                "nothing changed",
            )
            return
        if not self._hold_kube_proxy(plan):
            return
        if self._approved(
            ActionKind.ROLLBACK_KUBE_PROXY,
            lambda gate: self._request(gate, plan),
            first=first,
            unchanged="the DaemonSet was not changed",
        ):
            self._roll_back(plan)

    def _hold_kube_proxy(self, plan: RollbackPlan) -> bool:
        """Own kube-proxy's incident for the rollback; False (the run ended) if another has it."""
        cause = (
            f"kube-proxy is rolled back from revision {plan.from_revision} to {plan.to_revision}"
        )
        claim = incident.claim(
            SharedObject.KUBE_PROXY.value, cause=cause, nodes=(), opened_at=self._now()
        )
        if claim.owned:
            self._incident = claim.incident
            return True
        other = claim.incident
        self._finish(
            Outcome.KUBE_PROXY_BUSY,
            f"run {other.owner} is changing kube-proxy ({other.cause}); nothing was changed: "
            "start the rollback again once that run has ended",
        )
        return False

    def _wind_up(self) -> None:
        if self._incident is not None:
            self.record.handed_back = incident.hand_back(
                self._incident, outcome=self.record.outcome_text
            )

    def _note_plan(self, plan: RollbackPlan, *, observed_at: datetime) -> None:
        record = self.record
        record.from_revision, record.to_revision = plan.from_revision, plan.to_revision
        record.image_changes, record.diff = plan.image_changes, plan.diff
        record.add_step(
            "assess",
            StepStatus.DONE,
            f"revision {plan.from_revision} -> {plan.to_revision}; backup taken",
            at=observed_at,
        )

    def _request(self, gate: ApprovalGate, plan: RollbackPlan) -> ApprovalRequest:
        return gate.request(
            gate=GATE,
            title=f"Roll kube-proxy back from revision {plan.from_revision} to {plan.to_revision}",
            items=[_approval_item(plan)],
            timeout_seconds=self._parameters.approval_timeout_seconds,
            notes=[
                *self.record.target,
                "The current DaemonSet and ConfigMap are kept as the run's backup artifact.",
                "If the new pods are not Ready within "
                f"{self._parameters.rollout_timeout_seconds:g}s, the current template is restored.",
            ],
        )

    def _roll_back(self, plan: RollbackPlan) -> None:
        to_label = f"revision {plan.to_revision}"
        change = change_template(
            "roll-back", template=plan.to_template, expected=plan.from_template, label=to_label
        )
        self.record.add_step("roll-back", change.status, change.detail, at=self._now())
        if change.superseded:
            self._finish(Outcome.SUPERSEDED, change.detail)
            return
        timeout = self._parameters.rollout_timeout_seconds
        verdict = watch_rollout(_images(plan.to_template), timeout)
        if change.status is StepStatus.SKIPPED:
            self._already_in_place(plan, verdict)
            return
        healthy = verdict.progress is Progress.COMPLETE
        status = StepStatus.DONE if healthy else StepStatus.FAILED
        self.record.add_step("watch-rollout", status, verdict.detail, at=self._now())
        if healthy:
            self._finish(Outcome.ROLLED_BACK, f"kube-proxy runs {to_label} and every pod is Ready")
            return
        self._restore(plan, why=verdict.detail)

    def _already_in_place(self, plan: RollbackPlan, verdict: RolloutVerdict) -> None:
        """Someone else set the planned template before the approval came: this run applied
        nothing, so it claims no rollback, and restores nothing if that rollout fails."""
        healthy = verdict.progress is Progress.COMPLETE
        status = StepStatus.DONE if healthy else StepStatus.FAILED
        self.record.add_step("watch-rollout", status, verdict.detail, at=self._now())
        state = (
            f"kube-proxy runs revision {plan.to_revision} and every pod is Ready"
            if healthy
            else f"its rollout is not complete ({verdict.detail}); left as it is"
        )
        self._finish(
            Outcome.ALREADY_IN_PLACE,
            f"the cluster was already in the planned state: the DaemonSet had revision "
            f"{plan.to_revision}'s template when the approval came (set by someone else); "
            f"nothing was applied; {state}",
        )

    def _restore(self, plan: RollbackPlan, *, why: str) -> None:
        from_label = f"revision {plan.from_revision} (as before the run)"
        change = change_template(
            "restore", template=plan.from_template, expected=plan.to_template, label=from_label
        )
        self.record.add_step("restore", change.status, change.detail, at=self._now())
        if change.superseded:
            self._finish(
                Outcome.RESTORE_FAILED,
                f"the rollback failed ({why}) and the template changed before it was restored",
            )
            return
        verdict = watch_rollout(
            _images(plan.from_template), self._parameters.rollout_timeout_seconds
        )
        self.record.add_step("watch-restore", StepStatus.DONE, verdict.detail, at=self._now())
        self._finish(
            Outcome.RESTORED,
            f"revision {plan.to_revision} did not become Ready ({why}); restored {from_label}",
        )


def _approval_item(plan: RollbackPlan) -> ApprovalItem:
    changes = "; ".join(plan.image_changes) or "no image change"
    at_once = 1 if plan.max_unavailable is None else plan.max_unavailable
    return ApprovalItem(
        key=ActionKind.ROLLBACK_KUBE_PROXY.value,
        description=(
            f"Roll DaemonSet {NAMESPACE}/{DAEMON_SET} back to revision {plan.to_revision} "
            f"({changes})"
        ),
        blast_radius=(
            f"every kube-proxy pod ({plan.desired_pods} nodes) is replaced, at most "
            f"{at_once} unavailable at a time; each node re-syncs its "
            "Service rules as its new pod starts"
        ),
        diff=plan.diff,
    )


def _images(template: Mapping[str, Any]) -> tuple[str, ...]:
    return tuple(container_images(template).values())
