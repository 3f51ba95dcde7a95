"""A flow that asks what a test tells it to: one request per gate, in turn, on given terms."""

from __future__ import annotations

from prefect import flow
from prefect.runtime import flow_run

from flows.approval import ApprovalItem, ApprovalRules, RunSubject
from flows.approval.gate import ApprovalGate, ApprovalTerms
from flows.runtime import current_runtime
from runbooks.approval import FourEyes

FLOW_NAME = "approval-test-asking"


def report_key(flow_run_id: str) -> str:
    """The key its report would have (it publishes none)."""
    return f"asking-report-{flow_run_id}"


@flow(name=FLOW_NAME)
def asking_flow(
    gates: list[str], timeout_seconds: float = 60, four_eyes: list[FourEyes] | None = None
) -> str:
    """Ask for approval at each of ``gates`` in turn; the answers' decisions, joined."""
    runtime = current_runtime()
    run_id = str(flow_run.get_id())
    gate = ApprovalGate(
        runtime.notifier,
        run=RunSubject(flow_run_id=run_id, title="Asking test", report_key=report_key(run_id)),
        terms=ApprovalTerms(
            timeout_seconds=timeout_seconds,
            rules=ApprovalRules(four_eyes=frozenset(four_eyes or ())),
        ),
        now=runtime.clock.now,
    )
    decisions = []
    for key in gates:
        item = ApprovalItem(key=key, description=f"Step {key}", blast_radius="nothing")
        approval = gate.ask(gate.request(gate=key, title=f"Request {key}", items=[item]))
        decisions.append(approval.answer.decision.value)
    return ",".join(decisions)
