"""The rollback, step by step: assess and back up, ask, roll back, watch, restore if it fails."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from prefect.artifacts import create_markdown_artifact
from prefect.client.schemas.objects import State
from pydantic import BaseModel, Field

from flows.approval import ApprovalGate, ApprovalItem, ApprovalRequest
from flows.change_run import ChangeRun, Ending
from flows.rollback.plan import RollbackPlan, container_images
from flows.rollback.record import Outcome, RollbackRecord, outcome_state
from flows.rollback.report import backup_key, render_report, report_key
from flows.rollback.rollout import Progress
from flows.rollback.tasks import (
    DAEMON_SET,
    NAMESPACE,
    assess_rollback,
    change_template,
    watch_rollout,
)
from flows.run_record import StepStatus
from flows.runtime import FlowRuntime
from runbooks.approval import ActionKind, ApprovalPolicy

GATE = "rollback-kube-proxy"


class RollbackParameters(BaseModel):
    """What an operator sets when starting a rollback."""

    to_revision: int | None = Field(
        default=None, ge=1, description="Revision to roll back to; empty: the previous one."
    )
    dry_run: bool = Field(default=False, description="Plan and back up only; change nothing.")
    auto_approve: bool = Field(
        default=False,
        description="A drill: approve automatically where the policy allows drills.",
    )
    approval_timeout_seconds: float = Field(
        default=900, gt=0, le=86400, description="How long to wait for approval (then reject)."
    )
    rollout_timeout_seconds: float = Field(
        default=300,
        gt=0,
        le=3600,
        description="How long the rollout may take before the rollback is undone.",
    )


class RollbackRun(ChangeRun[RollbackRecord]):
    """One run of the rollback; `execute` returns its final state."""

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

    def _conduct(self) -> None:
        assessment = assess_rollback(self._parameters.to_revision)
        plan = assessment.plan
        if not isinstance(plan, RollbackPlan):
            self.record.add_step("assess", StepStatus.DONE, plan.reason, at=assessment.observed_at)
            self.record.finish(Outcome.NOTHING_TO_DO, plan.reason)
            return
        self._note_plan(plan, observed_at=assessment.observed_at)
        first = self._checkpoint(GATE)
        if first:
            create_markdown_artifact(
                markdown=assessment.backup,
                key=backup_key(self.record.flow_run_id or "unknown"),
                description=f"kube-proxy before the rollback (revision {plan.from_revision})",
            )
        if self._parameters.dry_run:
            self.record.finish(
                Outcome.DRY_RUN,
                f"would roll back revision {plan.from_revision} -> {plan.to_revision}; "
                "nothing changed",
            )
            return
        if self._approved(
            ActionKind.ROLLBACK_KUBE_PROXY,
            lambda gate: self._request(gate, plan),
            first=first,
            unchanged="the DaemonSet was not changed",
        ):
            self._roll_back(plan)

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
            self.record.finish(Outcome.SUPERSEDED, change.detail)
            return
        timeout = self._parameters.rollout_timeout_seconds
        verdict = watch_rollout(_images(plan.to_template), timeout)
        healthy = verdict.progress is Progress.COMPLETE
        status = StepStatus.DONE if healthy else StepStatus.FAILED
        self.record.add_step("watch-rollout", status, verdict.detail, at=self._now())
        if healthy:
            self.record.finish(
                Outcome.ROLLED_BACK, f"kube-proxy runs {to_label} and every pod is Ready"
            )
            return
        self._restore(plan, why=verdict.detail)

    def _restore(self, plan: RollbackPlan, *, why: str) -> None:
        from_label = f"revision {plan.from_revision} (as before the run)"
        change = change_template(
            "restore", template=plan.from_template, expected=plan.to_template, label=from_label
        )
        self.record.add_step("restore", change.status, change.detail, at=self._now())
        if change.superseded:
            self.record.finish(
                Outcome.RESTORE_FAILED,
                f"the rollback failed ({why}) and the template changed before it was restored",
            )
            return
        verdict = watch_rollout(
            _images(plan.from_template), self._parameters.rollout_timeout_seconds
        )
        self.record.add_step("watch-restore", StepStatus.DONE, verdict.detail, at=self._now())
        self.record.finish(
            Outcome.RESTORED,
            f"revision {plan.to_revision} did not become Ready ({why}); restored {from_label}",
        )

    def _report(self) -> tuple[str, str, str]:
        outcome = self.record.outcome.value if self.record.outcome else "in progress"
        key = report_key(self.record.flow_run_id or "unknown")
        return render_report(self.record), key, f"kube-proxy rollback report ({outcome})"

    def _end(self, ending: Ending, detail: str) -> None:
        self.record.finish(ENDINGS[ending], detail)

    def _final_state(self) -> State[Any]:
        return outcome_state(self.record)


ENDINGS: dict[Ending, Outcome] = {
    "rejected": Outcome.REJECTED,
    "timed_out": Outcome.APPROVAL_TIMED_OUT,
    "failed": Outcome.FAILED,
}


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
