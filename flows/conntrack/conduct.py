"""The cleanup, step by step: assess, ask, clean node by node, count what is left."""

from __future__ import annotations

from collections.abc import Mapping

from prefect.states import Completed, Failed

from flows.approval import ApprovalItem, ApprovalRequest, StepStatus
from flows.approval.gate import ApprovalGate
from flows.change_run import ChangeRun, FinalState, RunReport, final_states
from flows.conntrack.parameters import CleanupParameters
from flows.conntrack.plan import CleanupPlan
from flows.conntrack.record import CleanupRecord, Outcome
from flows.conntrack.report import render_report, report_key
from flows.conntrack.tasks import assess_cleanup, clean_node
from flows.runtime import FlowRuntime
from runbooks.approval import ActionKind, ApprovalPolicy

GATE = "conntrack-cleanup"

#: The final state of each outcome: a cleanup that left matching entries behind Failed.
STATES: Mapping[Outcome, FinalState] = final_states(
    Outcome,
    {
        Outcome.CLEANED: (Completed, "Cleaned"),
        Outcome.NOT_CLEAN: (Failed, "EntriesRemain"),
    },
)


class CleanupRun(ChangeRun[CleanupRecord, Outcome]):
    """One run of the cleanup; `execute` returns its final state."""

    outcomes = Outcome
    states = STATES
    report = RunReport(title="conntrack cleanup report", key=report_key, render=render_report)

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
            self._finish(Outcome.NOTHING_TO_DO, plan.reason)
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
            self._finish(Outcome.DRY_RUN, f"would delete {plan.entries} entries; none deleted")
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
            self._finish(
                Outcome.NOT_CLEAN, f"deleted {deleted} entries {where}; {remaining} still match"
            )
        else:
            self._finish(Outcome.CLEANED, f"deleted {deleted} entries {where}; none left")


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
