"""The cleanup, step by step: assess, ask, clean node by node, count what is left."""

from __future__ import annotations

import ipaddress
from typing import Any, Self

from prefect.client.schemas.objects import State
from pydantic import BaseModel, Field, field_validator, model_validator

from flows.approval import ApprovalGate, ApprovalItem, ApprovalRequest
from flows.change_run import ChangeRun, Ending
from flows.conntrack.plan import CleanupPlan, Target
from flows.conntrack.record import CleanupRecord, Outcome, outcome_state, render_report, report_key
from flows.conntrack.tasks import assess_cleanup, clean_node
from flows.run_record import StepStatus
from flows.runtime import FlowRuntime
from runbooks.approval import ActionKind, ApprovalPolicy

GATE = "conntrack-cleanup"


class CleanupParameters(BaseModel):
    """What an operator sets when starting a cleanup."""

    namespace: str | None = Field(default=None, description="The Service's namespace.")
    service: str | None = Field(
        default=None, description="Only this Service's stale entries (needs namespace)."
    )
    pod_ip: str | None = Field(
        default=None, description="Only entries answered by this gone Pod IP."
    )
    full_flush: bool = Field(
        default=False,
        description="conntrack -F on every node: breaks every NATed connection; always asks.",
    )
    dry_run: bool = Field(default=False, description="Plan only; delete nothing.")
    auto_approve: bool = Field(
        default=False, description="A drill: approve automatically where the policy allows drills."
    )
    approval_timeout_seconds: float = Field(
        default=900, gt=0, le=86400, description="How long to wait for approval (then reject)."
    )

    @field_validator("namespace", "service", "pod_ip", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        # The Prefect UI's form sends an emptied text field as "".
        if isinstance(value, str) and not value.strip():
            return None
        return value.strip() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _one_target(self) -> Self:
        if self.service and not self.namespace:
            raise ValueError("service needs namespace: set namespace to the Service's namespace")
        if self.pod_ip is not None:
            try:
                # conntrack prints addresses in their canonical form: compare in that form.
                self.pod_ip = ipaddress.ip_address(self.pod_ip).compressed
            except ValueError as error:
                raise ValueError(f"pod_ip {self.pod_ip!r} is not an IP address") from error
            if self.service:
                raise ValueError("set pod_ip or service, not both")
        if self.full_flush and (self.service or self.pod_ip):
            raise ValueError("full_flush empties whole tables: leave service and pod_ip empty")
        return self

    @property
    def target(self) -> Target:
        """What to clean, for the plan."""
        return Target(self.namespace, self.service, self.pod_ip, self.full_flush)

    def describe(self) -> str:
        """The target in words."""
        if self.full_flush:
            return "full flush on every node"
        if self.pod_ip:
            return f"entries answered by Pod IP {self.pod_ip}"
        if self.service:
            return f"stale entries of Service {self.namespace}/{self.service}"
        scope = f" in {self.namespace}" if self.namespace else ""
        return f"stale UDP entries of every Service{scope}"


class CleanupRun(ChangeRun[CleanupRecord]):
    """One run of the cleanup; `execute` returns its final state."""

    def __init__(
        self,
        parameters: CleanupParameters,
        *,
        runtime: FlowRuntime,
        policy: ApprovalPolicy,
        flow_run_id: str,
    ) -> None:
        """Prepare the run (nothing is read yet)."""
        record = CleanupRecord(
            flow_run_id=flow_run_id,
            target=parameters.describe(),
            started_at=runtime.clock.now(),
            dry_run=parameters.dry_run,
        )
        super().__init__(record, runtime=runtime, policy=policy, drill=parameters.auto_approve)
        self._parameters = parameters

    def _conduct(self) -> None:
        assessment = assess_cleanup(self._parameters.target)
        plan = assessment.plan
        if not isinstance(plan, CleanupPlan):
            self.record.add_step("assess", StepStatus.DONE, plan.reason, at=assessment.observed_at)
            self.record.finish(Outcome.NOTHING_TO_DO, plan.reason)
            return
        self.record.planned = [f"{d.node}: {d.reason}" for d in plan.deletions] + [
            f"{f.node}: flush {'?' if f.entries is None else f.entries} entries"
            for f in plan.flushes
        ]
        self.record.unreachable = list(plan.unreachable)
        self.record.add_step(
            "assess",
            StepStatus.DONE,
            f"{plan.entries} entries on {len(plan.nodes)} node(s)",
            at=assessment.observed_at,
        )
        if self._parameters.dry_run:
            self.record.finish(
                Outcome.DRY_RUN, f"would delete {plan.entries} entries; none deleted"
            )
            return
        first = self._checkpoint(GATE)
        if self._approved(
            plan.action,
            lambda gate: self._request(gate, plan),
            first=first,
            unchanged="no entry was deleted",
        ):
            self._clean(plan)

    def _request(self, gate: ApprovalGate, plan: CleanupPlan) -> ApprovalRequest:
        return gate.request(
            gate=GATE,
            title=f"conntrack cleanup: {self._parameters.describe()}",
            items=[_approval_item(plan)],
            timeout_seconds=self._parameters.approval_timeout_seconds,
            notes=[f"not looked at: {line}" for line in plan.unreachable],
        )

    def _clean(self, plan: CleanupPlan) -> None:
        deleted = remaining = 0
        flushing = {flush.node: flush.pod for flush in plan.flushes}
        for node in plan.nodes:
            mine = tuple(d for d in plan.deletions if d.node == node)
            pod = flushing.get(node) or mine[0].pod
            result = clean_node(node, pod=pod, deletions=mine, flush=node in flushing)
            deleted, remaining = deleted + result.deleted, remaining + result.remaining
            status = StepStatus.DONE if result.remaining == 0 else StepStatus.FAILED
            self.record.add_step(f"clean {node}", status, "; ".join(result.lines), at=self._now())
        where = f"on {len(plan.nodes)} node(s)"
        if remaining:
            self.record.finish(
                Outcome.NOT_CLEAN, f"deleted {deleted} entries {where}; {remaining} still match"
            )
        else:
            self.record.finish(Outcome.CLEANED, f"deleted {deleted} entries {where}; none left")

    def _report(self) -> tuple[str, str, str]:
        outcome = self.record.outcome.value if self.record.outcome else "in progress"
        key = report_key(self.record.flow_run_id or "unknown")
        return render_report(self.record), key, f"conntrack cleanup report ({outcome})"

    def _end(self, ending: Ending, detail: str) -> None:
        self.record.finish(ENDINGS[ending], detail)

    def _final_state(self) -> State[Any]:
        return outcome_state(self.record)


ENDINGS: dict[Ending, Outcome] = {
    "rejected": Outcome.REJECTED,
    "timed_out": Outcome.APPROVAL_TIMED_OUT,
    "failed": Outcome.FAILED,
}


def _approval_item(plan: CleanupPlan) -> ApprovalItem:
    if plan.flushes:
        return ApprovalItem(
            key=ActionKind.FLUSH_CONNTRACK.value,
            description=f"conntrack -F on {len(plan.flushes)} node(s)",
            blast_radius=(
                "EVERY connection tracked on these nodes is forgotten: established NATed "
                "connections (Services, NodePorts, egress SNAT) break and must reconnect"
            ),
            diff=[f"{f.node}: conntrack -F ({f.entries} entries)" for f in plan.flushes],
        )
    return ApprovalItem(
        key=ActionKind.DELETE_STALE_CONNTRACK.value,
        description=f"delete {plan.entries} stale conntrack entries on {len(plan.nodes)} node(s)",
        blast_radius=(
            "only entries answered by a backend that is gone; their clients' next packets are "
            "NATed afresh to a live endpoint"
        ),
        diff=[
            f"{d.node}: conntrack -D {' '.join(d.match.filters())}  # {d.entries} entries"
            for d in plan.deletions
        ],
    )
